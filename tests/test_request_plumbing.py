"""The quick paths of the request plumbing (issue 14, lever 5) give what the library code
they stand in for gives, on any input (hypothesis, fixed seed, bounded examples).

Each quick path skips work for the common case and hands every other case to the library
function it replaces; these tests compare the two on generated text that reaches both the
quick and the fallback branches.
"""
from __future__ import annotations

from urllib.request import parse_http_list

import pytest
from hypothesis import given, seed, settings
from hypothesis import strategies as st

from ocss_testkit.auth.params import split_list

EXAMPLES = 400
# Text made mostly of what a header list is made of: separators, quotes, escapes, spaces.
LIST_TEXT = st.text(alphabet=st.sampled_from(list(',"\\ =\t') + list("ab%2C") + ["é", "\u2028"]), max_size=40)
ANY_TEXT = st.text(max_size=30)


@seed(14)
@settings(max_examples=EXAMPLES, deadline=None, database=None)
@given(st.one_of(LIST_TEXT, ANY_TEXT))
def test_split_list_is_parse_http_list(text):
    assert split_list(text) == parse_http_list(text)


def test_split_list_takes_the_quick_path_for_a_signed_header(monkeypatch):
    """An OAuth header of percent-encoded values is split without urllib's character loop."""
    from ocss_testkit.auth import params

    header = ('realm="http://h/", oauth_consumer_key="k", oauth_nonce="n%2C1", oauth_signature="a%2Bb%3D", '
              'oauth_signature_method="HMAC-SHA1", oauth_timestamp="1700000000", oauth_token="t", '
              'oauth_version="1.0"')
    expected = parse_http_list(header)
    monkeypatch.setattr(params.oauth_utils, "parse_http_list", _never)
    assert split_list(header) == expected
    with pytest.raises(AssertionError):  # and the fallback is that function
        split_list('a="x,y"')


def _never(text):
    raise AssertionError(f"urllib's parse_http_list was called for {text!r}")
