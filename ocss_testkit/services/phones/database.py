"""The phones database: vendors and models, loaded once and shared read-only.

Every World of a process points at the same PhonesDB object; nothing in it is ever
copied or mutated, which is what keeps a reset cheap.
"""
from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from types import MappingProxyType


@dataclass(frozen=True, slots=True)
class Vendor:
    id: int
    uuid: str
    name: str
    image_url: str


@dataclass(frozen=True, slots=True)
class Model:
    id: int
    uuid: str
    name: str
    vendor_id: int
    image_url: str
    user_agents: tuple[str, ...]
    server_alert: bool
    datastores: tuple[tuple[str, str], ...]  # (dataclass, phone-side name) reported by a first sync
    ua_pattern: re.Pattern | None = None  # identifies this model, and no other, in a User-Agent


DEFAULT_UPDATED = datetime(2009, 11, 1, tzinfo=timezone.utc)
IDENTIFY_LIMIT = 1024  # characters of a User-Agent a model is identified from


class PhonesDB:
    def __init__(self, vendors: list[Vendor], models: list[Model], updated: datetime = DEFAULT_UPDATED) -> None:
        self.updated = updated  # the `published`/`updated` of every phones entry
        self.vendors = MappingProxyType({v.id: v for v in vendors})
        self.models = MappingProxyType({m.id: m for m in models})
        index: dict[str, Model] = {}
        for m in models:
            index[str(m.id)] = m
            index[m.uuid.lower()] = m
        self._by_ref = MappingProxyType(index)

    def model(self, ref: str) -> Model | None:
        """A model by numeric id (`112`) or UUID, the two forms 003 shows for model_uuid."""
        return self._by_ref.get(ref.strip().lower())

    def vendor(self, ref: str | int) -> Vendor | None:
        try:
            return self.vendors.get(int(ref))
        except (TypeError, ValueError):
            ref = str(ref).lower()
            return next((v for v in self.vendors.values() if v.uuid == ref), None)

    def identify(self, user_agent: str) -> Model | None:
        """The model whose User-Agent pattern the first IDENTIFY_LIMIT characters of the
        browser's User-Agent match, if exactly one; None otherwise."""
        # Every pattern is searched over the whole string: models × length. Anyone may
        # visit a live /d/{code}, and a 256 KiB User-Agent took 250 ms. Real ones are far
        # shorter (the longest in fixtures/phones.json: 166 characters; the model token
        # comes first, or in the platform comment right after), and a detection keeps the
        # same first 1,024 characters, so what it shows is what it was identified from.
        head = user_agent[:IDENTIFY_LIMIT]
        found = [m for m in self.models.values() if m.ua_pattern and m.ua_pattern.search(head)]
        return found[0] if len(found) == 1 else None

    def models_of(self, vendor_id: int) -> list[Model]:
        return [m for m in self.models.values() if m.vendor_id == vendor_id]

    @classmethod
    def from_json(cls, data: dict) -> PhonesDB:
        vendors, models = [], []
        for v in data["vendors"]:
            vendors.append(Vendor(int(v["id"]), v["uuid"].lower(), v["name"], v.get("image_url", "")))
            for m in v["models"]:
                models.append(Model(
                    id=int(m["id"]),
                    uuid=m["uuid"].lower(),
                    name=m["name"],
                    vendor_id=int(v["id"]),
                    image_url=m.get("image_url", ""),
                    user_agents=tuple(m.get("user_agents", ())),
                    server_alert=bool(m.get("server_alert", False)),
                    datastores=tuple((d["dataclass"], d["name"]) for d in m.get("datastores", ())),
                    ua_pattern=_pattern(m),
                ))
        updated = (datetime.strptime(data["updated"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
                   if data.get("updated") else DEFAULT_UPDATED)
        return cls(vendors, models, updated)


def _pattern(model: dict) -> re.Pattern | None:
    if model.get("ua_pattern"):
        return re.compile(model["ua_pattern"])
    agents = model.get("user_agents") or ()
    # Without an explicit pattern, the product token of its first User-Agent (`Nokia6233/`).
    return re.compile(re.escape(agents[0].split("/")[0]) + "/") if agents else None


_loaded: dict[Path, PhonesDB] = {}
_load_lock = threading.Lock()


def load_phones(path: Path) -> PhonesDB:
    """Parse a phones file once per process; later calls share the same object."""
    path = Path(path).resolve()
    with _load_lock:
        db = _loaded.get(path)
        if db is None:
            db = _loaded[path] = PhonesDB.from_json(json.loads(path.read_text("utf-8")))
        return db
