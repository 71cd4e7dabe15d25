"""The phone database: vendors, handset models, and handset detection (SyncServer API
Python interface, 'Phones', 'Vendors' and 'Models').

Reading vendors and models needs no credentials (they are signed when credentials are
there); the phones API is read-only, so ``new()``, ``update()`` and ``delete()`` raise
:class:`~ocss.exceptions.NotAllowedError` without sending anything. The ``detect_*``
methods need credentials.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import atom, checks
from .base import Field, Resource, segment
from .collection import Collection
from .exceptions import ClientError, NotFoundError, ServerError

if TYPE_CHECKING:
    from .api import SyncServerAPI

READ_ONLY = "the phones API is read-only"
_REFUSED = {"new": READ_ONLY, "update": READ_ONLY, "delete": READ_ONLY}
DETECT = "/v2/phones/detect/"


class Vendor(Resource):
    """A mobile device manufacturer (SyncServer API Python interface, 'Vendors').

    Attributes, besides ``id`` (``str``), ``created`` and ``modified``:

    * ``name`` -- the name of the vendor (``str``);
    * ``image_url`` -- URL of the vendor's logo (``str``), or None;
    * ``models`` -- a :class:`Models` collection of the vendor's handset models.

    Read-only: ``update()`` and ``delete()`` raise NotAllowedError, sending nothing.
    """

    kind = "Vendor"
    base_path = "/v2/phones/vendors/"
    protected = False
    refused = _REFUSED

    name = Field("The name of the vendor (str).")
    image_url = Field("URL of an image of the vendor's logo (str), or None.")

    def __init__(self, api: SyncServerAPI, id: Any, parent: Resource | None = None) -> None:  # noqa: A002
        super().__init__(api, id, parent)
        self._models: Models | None = None

    @property
    def models(self) -> Models:
        """The collection of all this vendor's known handset models (the same object every
        time; its feed is requested when first read)."""
        if self._models is None:
            self._models = Models(self._api, vendor=self)
        return self._models

    @classmethod
    def id_from(cls, entry: atom.Element) -> Any:
        return atom.text(entry, "oc:vendor/oc:id") or super().id_from(entry)

    @classmethod
    def aliases_from(cls, entry: atom.Element) -> list[Any]:
        return [atom.text(entry, "oc:vendor/oc:uuid")]

    def _parse(self, entry: atom.Element) -> dict[str, Any]:
        return {"name": atom.text(entry, "oc:vendor/oc:name") or atom.text(entry, "a:title"),
                "image_url": atom.text(entry, "oc:vendor/oc:image_url") or None}


class Model(Resource):
    """A handset model (SyncServer API Python interface, 'Models').

    Attributes, besides ``id`` (``str``), ``created`` and ``modified``:

    * ``name`` -- the name of the phone model (``str``);
    * ``image_url`` -- the URL of an image of the handset (``str``), or None;
    * ``vendor`` -- the :class:`Vendor` of the handset (not fetched until one of its own
      attributes is read).

    A model can also be looked up by its UUID (``models['8f8b541e-...']``): the answer is
    the same object as ``models[id]``. A model only referenced by UUID and not fetched yet
    (a SyncML client's ``model``, when the server names it so) has that UUID as ``id``.
    Read-only: ``update()`` and ``delete()`` raise NotAllowedError, sending nothing.
    """

    kind = "Model"
    base_path = "/v2/phones/models/"
    protected = False
    refused = _REFUSED

    name = Field("The name of the phone model (str).")
    image_url = Field("The URL to an image of the phone handset (str), or None.")
    vendor = Field("The Vendor resource of this handset model.")

    @classmethod
    def id_from(cls, entry: atom.Element) -> Any:
        return atom.text(entry, "oc:model/oc:id") or super().id_from(entry)

    @classmethod
    def aliases_from(cls, entry: atom.Element) -> list[Any]:
        return [atom.text(entry, "oc:model/oc:uuid"), atom.text(entry, "oc:model/oc:id")]

    def _parse(self, entry: atom.Element) -> dict[str, Any]:
        vendor = atom.text(entry, "oc:model/oc:vendor_id") or atom.last_segment(atom.link(entry, "related"))
        return {"name": atom.text(entry, "oc:model/oc:name") or atom.text(entry, "a:title"),
                "image_url": atom.text(entry, "oc:model/oc:image_url") or None,
                "vendor": vendor}

    def _shown(self, name: str, value: Any) -> Any:
        if name == "vendor" and value is not None:
            return self._api._obtain(Vendor, value)
        return value


class Vendors(Collection):
    """All the mobile device vendors known by the service, keyed by vendor id
    (SyncServer API Python interface, 'Vendors'). Read-only."""

    member = Vendor
    refused = _REFUSED


class Models(Collection):
    """Handset models keyed by model id: every model (``api.phones.models``), or one
    vendor's (``vendor.models``) (SyncServer API Python interface, 'Models'). Read-only.

    The ``detect_*`` methods are not limited by vendor, even when called from a vendor's
    collection, and need credentials: without them they raise NotAllowedError before
    sending anything.
    """

    member = Model
    refused = _REFUSED

    def __init__(self, api: SyncServerAPI, vendor: Vendor | None = None) -> None:
        super().__init__(api)
        self._vendor = vendor
        self._by_listing = vendor is not None  # vendor.models['x'] is only that vendor's model x

    @property
    def path(self) -> str:
        if self._vendor is not None:
            return self._vendor._item_path() + "models/"
        return super().path

    def _detect(self, kind: str, number: str) -> Any:
        body = atom.entry(atom.element("oc:phone_number", checks.text(number, f"detect_{kind}(): number")))
        return self._api._request("POST", f"{DETECT}{kind}/", body)

    def detect_auto(self, number: str) -> Model | None:
        """Identify a handset from its phone number alone (for allowed users).

        :param number: the phone number, e.g. ``"+4798765432"`` (``str``).
        :returns: the Model, or None when it could not be identified.
        :raises TypeError: ``number`` is not a ``str``.
        :raises ValueError: ``number`` is empty.
        :raises NotAllowedError: no credentials (nothing sent), or the user may not (403).
        :raises ClientError: the server refused the phone number as malformed (400).
        """
        response = self._detect("auto", number)
        if response.status == 204 or not response.body.strip():
            return None
        with self._api._reading(response):
            return self._api._adopt(Model, self._api._entry(response, "detect_auto"))

    def detect_manual(self, number: str) -> str:
        """Send the phone a message inviting its owner to a handset-detection page.

        :param number: the phone number, e.g. ``"+4798765432"`` (``str``).
        :returns: the unique code (``str``) to pass to :meth:`detect_poll`.
        :raises TypeError: ``number`` is not a ``str``.
        :raises ValueError: ``number`` is empty.
        :raises NotAllowedError: no credentials (nothing sent), or refused (401, 403).
        :raises ClientError: the server refused the phone number as malformed (400).
        """
        response = self._detect("manual", number)
        code = atom.text(self._api._entry(response, "detect_manual"), "oc:code")
        if not code:
            raise ServerError("detect_manual: the answer holds no oc:code", response.status, response.reason,
                              response.body)
        return code

    def detect_poll(self, code: str) -> Model | bool | None:
        """Ask which handset model a :meth:`detect_manual` code identified.

        :param code: what :meth:`detect_manual` returned (``str``).
        :returns: the Model; False when the model could not be identified; None when the
            phone has not visited the detection page yet.
        :raises TypeError: ``code`` is not a ``str``.
        :raises ValueError: ``code`` is empty or white space.
        :raises ClientError: the server does not know the code (unknown or expired).
        :raises NotAllowedError: no credentials (nothing sent), or refused (401, 403).
        """
        checks.text(code, "detect_poll(): code")
        if not code.strip():
            raise ValueError(f"detect_poll(): code must not be white space, not {code!r}")
        try:
            response = self._api._request("GET", f"{DETECT}manual/{segment(code)}/")
        except NotFoundError as exc:
            raise ClientError(f"detect_poll: invalid code {code!r}", exc.status, exc.reason, exc.body) from None
        entry = self._api._entry(response, "detect_poll")
        status = atom.text(entry, "oc:status")
        if status == "pending":
            return None
        if status == "failed":
            return False
        model = atom.last_segment(atom.link(entry, "related")) or atom.text(entry, "oc:model_uuid")
        if status != "detected" or not model:
            raise ServerError(f"detect_poll: unexpected detection status {status!r}", response.status,
                              response.reason, response.body)
        return self._api._obtain(Model, model)


class Phones:
    """Groups the phone database's two collections: ``vendors`` and ``models``; only
    nominally a collection itself (SyncServer API Python interface, 'Phones')."""

    def __init__(self, api: SyncServerAPI) -> None:
        self.vendors = Vendors(api)
        self.models = Models(api)

    def __repr__(self) -> str:
        return f"<Phones collection at {id(self):#x}>"
