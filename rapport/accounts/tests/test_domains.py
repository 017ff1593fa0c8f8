"""Domain normalization: the one form in which Rapport stores and compares domains."""

import string

import idna
import pytest
from hypothesis import assume, example, given, reject
from hypothesis import strategies as st

from rapport.accounts.domains import domain_display, domain_normalize
from rapport.core.errors import InvalidInput

# --- strategies ----------------------------------------------------------------------------

_LDH = string.ascii_lowercase + string.digits


@st.composite
def ascii_labels(draw: st.DrawFn, max_size: int = 20) -> str:
    """A host name label: letters, digits and inner hyphens (never `xx--`, reserved by IDNA)."""
    inner = draw(st.text(alphabet=_LDH + "-", max_size=max_size - 2))
    label = draw(st.sampled_from(_LDH)) + inner
    if len(label) > 1:
        label += draw(st.sampled_from(_LDH))
    assume(label[2:4] != "--")
    return label


@st.composite
def ascii_domains(draw: st.DrawFn) -> str:
    """A registrable ASCII domain such as `shop.acme.io`, never starting with `www.`."""
    labels = draw(st.lists(ascii_labels(), min_size=1, max_size=3))
    tld = draw(st.text(alphabet=string.ascii_lowercase, min_size=2, max_size=6))
    domain = ".".join([*labels, tld])
    assume(not domain.startswith("www."))
    return domain


# Letters of a few scripts that IDNA accepts inside one label (one script per label).
_SCRIPTS = [
    "abcdefghijklmnopqrstuvwxyzäöüéèêñçåøæ",
    "абвгдежзийклмнопрстуфхцчшщэюя",
    "日本語中文网络公司商店",
    "αβγδεζηθικλμνξοπρτυφχψω",
]


@st.composite
def unicode_domains(draw: st.DrawFn) -> str:
    """A domain whose first label is in a non-ASCII script, such as `bücher.de`."""
    alphabet = draw(st.sampled_from(_SCRIPTS))
    label = draw(st.text(alphabet=alphabet, min_size=1, max_size=12))
    assume(not label.isascii())
    tld = draw(st.sampled_from(["de", "com", "jp", "io", "рф"]))
    return f"{label}.{tld}"


def _random_case(draw: st.DrawFn, text: str) -> str:
    flips = draw(st.lists(st.booleans(), min_size=len(text), max_size=len(text)))
    return "".join(c.upper() if flip else c for c, flip in zip(text, flips, strict=True))


@st.composite
def pasted_forms(draw: st.DrawFn, domain: str) -> str:
    """*domain* the way people paste it: URL, email, port, `www.`, trailing dot, any case."""
    host = draw(st.sampled_from(["", "www.", "WWW.", "www.www."])) + domain
    host = _random_case(draw, host)
    form = draw(st.sampled_from(["bare", "dot", "port", "url", "email", "userinfo", "spaces"]))
    match form:
        case "dot":
            return host + "."
        case "port":
            return f"{host}:{draw(st.integers(1, 65535))}"
        case "url":
            scheme = draw(st.sampled_from(["http", "https", "HTTPS", "ftp"]))
            path = draw(st.sampled_from(["", "/", "/pricing", "/a/b?x=1", "/?q=a#top", "#frag"]))
            return f"{scheme}://{host}{path}"
        case "email":
            return f"{draw(st.sampled_from(['jane', 'J.Doe+tag', 'ops']))}@{host}"
        case "userinfo":
            return f"https://user:secret@{host}:8443/path"
        case "spaces":
            return f"  {host}\t"
        case _:
            return host


def _normalized(value: str) -> str:
    """Normalize *value*, or tell Hypothesis to try another input when it is not a domain."""
    try:
        return domain_normalize(value)
    except InvalidInput:
        reject()


# --- properties ----------------------------------------------------------------------------


@given(st.text(max_size=80))
@example("")
@example("\ud800.com")
@example("x" * 300 + ".com")
@example("https://")
@example("@@@")
@example("[::1]:80")
def test_any_text_normalizes_or_raises_invalid_input_with_a_message(value: str) -> None:
    try:
        domain = domain_normalize(value)
    except InvalidInput as exc:
        assert exc.message.strip()
        assert exc.field == "domain"
    else:
        assert isinstance(domain, str)


@given(st.one_of(st.text(max_size=60), ascii_domains(), unicode_domains()))
def test_normalizing_twice_gives_the_same_domain(value: str) -> None:
    domain = _normalized(value)
    assert domain_normalize(domain) == domain


@given(st.one_of(st.text(max_size=60), ascii_domains(), unicode_domains()))
def test_a_normalized_domain_is_lower_case_ascii_without_www_or_trailing_dot(value: str) -> None:
    domain = _normalized(value)
    assert domain.isascii()
    assert domain == domain.lower()
    assert not domain.startswith("www.")
    assert not domain.endswith(".")
    assert len(domain) <= 253
    labels = domain.split(".")
    assert len(labels) >= 2
    assert all(0 < len(label) <= 63 for label in labels)


@given(ascii_domains())
def test_a_plain_ascii_domain_is_kept_as_it_is(domain: str) -> None:
    assert domain_normalize(domain) == domain


@given(st.data(), ascii_domains())
def test_urls_emails_ports_and_upper_case_reduce_to_the_host(
    data: st.DataObject, domain: str
) -> None:
    pasted = data.draw(pasted_forms(domain))
    assert domain_normalize(pasted) == domain


@given(unicode_domains())
def test_a_unicode_domain_and_its_punycode_normalize_the_same(domain: str) -> None:
    stored = _normalized(domain)
    assert stored.isascii()
    assert "xn--" in stored
    unicode_form = idna.decode(stored)
    assert domain_normalize(unicode_form) == stored
    assert domain_normalize(stored) == stored
    assert domain_display(stored) == unicode_form


@given(unicode_domains(), st.data())
def test_a_unicode_domain_pasted_as_a_url_normalizes_like_the_bare_domain(
    domain: str, data: st.DataObject
) -> None:
    stored = _normalized(domain)
    assert domain_normalize(data.draw(pasted_forms(domain))) == stored


# --- examples ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pasted", "stored"),
    [
        ("acme.com", "acme.com"),
        ("ACME.COM", "acme.com"),
        ("  acme.com  ", "acme.com"),
        ("acme.com.", "acme.com"),
        ("www.acme.com", "acme.com"),
        ("WWW.Acme.Com.", "acme.com"),
        ("www.www.acme.com", "acme.com"),
        ("https://www.Acme.com/pricing", "acme.com"),
        ("http://acme.com:8080/a?b=c#d", "acme.com"),
        ("ftp://files.acme.com", "files.acme.com"),
        ("acme.com:443", "acme.com"),
        ("jane@Acme.com", "acme.com"),
        ("mailto:jane@acme.com", "acme.com"),
        ("https://user:pw@acme.com/", "acme.com"),
        ("shop.www.acme.com", "shop.www.acme.com"),
        ("bücher.de", "xn--bcher-kva.de"),
        ("BÜCHER.DE", "xn--bcher-kva.de"),
        ("xn--bcher-kva.de", "xn--bcher-kva.de"),
        ("https://www.bücher.de/katalog", "xn--bcher-kva.de"),
        ("ＡＣＭＥ.com", "acme.com"),
        ("acme。com", "acme.com"),
        ("例え.jp", "xn--r8jz45g.jp"),
    ],
)
def test_pasted_domain_is_stored_in_its_normal_form(pasted: str, stored: str) -> None:
    assert domain_normalize(pasted) == stored


@pytest.mark.parametrize(
    ("pasted", "stored"),
    [
        # An @ in the path or query of a URL is not the user-info separator.
        ("https://acme.com/contact?email=sales@evil.example", "acme.com"),
        ("acme.com/team/jane@home.example", "acme.com"),
        # A trailing ideographic full stop is a trailing dot too.
        ("acme.com。", "acme.com"),
        ("bücher.de．", "xn--bcher-kva.de"),
    ],
)
def test_tricky_pastes_keep_the_host_people_meant(pasted: str, stored: str) -> None:
    assert domain_normalize(pasted) == stored


@pytest.mark.parametrize(
    ("pasted", "message"),
    [
        ("", "Enter a domain"),
        ("   ", "Enter a domain"),
        ("@", "Enter a domain"),
        ("localhost", "not a valid domain name"),
        ("acme", "not a valid domain name"),
        ("www.com", "not a valid domain name"),
        ("1.2.3.4", "not a valid domain name"),
        ("acme.123", "not a valid domain name"),
        ("a..b.com", "not a valid domain name"),
        (".com", "not a valid domain name"),
        ("-acme.com", "not a valid domain name"),
        ("acme-.com", "not a valid domain name"),
        ("ac me.com", "not a valid domain name"),
        ("acme_corp.com", "not a valid domain name"),
        ("x" * 64 + ".com", "not a valid domain name"),
        (".".join(["abcdefghij"] * 25) + ".com", "not a valid domain name"),
        ("xn--zz.com", "not a valid domain name"),
        ("[::1]", "not a valid domain name"),
        ("acme.com\\evil", "not a valid domain name"),
    ],
)
def test_invalid_domain_is_refused_with_a_clear_message(pasted: str, message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        domain_normalize(pasted)
    assert message in caught.value.message
    assert caught.value.field == "domain"


def test_the_error_message_quotes_what_was_pasted() -> None:
    with pytest.raises(InvalidInput, match="'not a domain'"):
        domain_normalize("not a domain")


def test_a_stored_domain_is_shown_to_people_in_unicode() -> None:
    assert domain_display("xn--bcher-kva.de") == "bücher.de"
    assert domain_display("acme.com") == "acme.com"
    assert domain_display("xn--zz.com") == "xn--zz.com"
