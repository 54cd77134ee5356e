"""Authentication (apiserver/auth/authn.py): certificates, tokens, anonymous."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from apiserver.auth import ANONYMOUS, AUTHENTICATED, UNAUTHENTICATED, Authenticator, Credentials
from apiserver.auth.authn import TokenFileError, bearer_token, certificate_user, load_token_file
from apiserver.auth.user import UserInfo
from pinnace.machinery import errors, pki

TOKENS = {"s3cret": UserInfo("alice", ("devs",), "42")}


@pytest.fixture(scope="module")
def ca() -> pki.Issued:
    return pki.new_ca()


def cert_pem(ca: pki.Issued, user: str, groups: tuple[str, ...] = ()) -> bytes:
    return pki.issue(ca, pki.client_spec(user, groups)).cert_pem()


@pytest.mark.parametrize(
    ("creds", "anonymous", "expected"),
    [
        pytest.param(
            Credentials(authorization="Bearer s3cret"),
            False,
            UserInfo("alice", ("devs", AUTHENTICATED), "42"),
            id="token",
        ),
        pytest.param(
            Credentials(authorization="bearer  s3cret "),
            False,
            UserInfo("alice", ("devs", AUTHENTICATED), "42"),
            id="token-scheme-any-case",
        ),
        pytest.param(
            Credentials(), True, UserInfo(ANONYMOUS, (UNAUTHENTICATED,)), id="none-anonymous-on"
        ),
    ],
)
def test_who_is_asking(creds: Credentials, anonymous: bool, expected: UserInfo) -> None:
    assert Authenticator(tokens=TOKENS, anonymous=anonymous).authenticate(creds) == expected


@pytest.mark.parametrize(
    ("creds", "anonymous"),
    [
        pytest.param(Credentials(), False, id="none"),
        pytest.param(Credentials(authorization="Bearer wrong"), False, id="bad-token"),
        # A wrong credential is refused even where anonymous requests are served.
        pytest.param(Credentials(authorization="Bearer wrong"), True, id="bad-token-anonymous-on"),
        pytest.param(Credentials(authorization="Basic YTpi"), True, id="not-a-bearer-token"),
        pytest.param(Credentials(authorization="Bearer "), True, id="empty-token"),
    ],
)
def test_refused_with_401(creds: Credentials, anonymous: bool) -> None:
    with pytest.raises(errors.Unauthorized) as err:
        Authenticator(tokens=TOKENS, anonymous=anonymous).authenticate(creds)
    assert (err.value.http_code, err.value.reason, err.value.message) == (
        401,
        "Unauthorized",
        "Unauthorized",
    )


def test_a_certificate_names_user_and_groups_before_any_token(ca: pki.Issued) -> None:
    pem = cert_pem(ca, "system:node:n1", ("system:nodes",))
    creds = Credentials(cert=pem, authorization="Bearer s3cret")
    assert Authenticator(tokens=TOKENS).authenticate(creds) == UserInfo(
        "system:node:n1", ("system:nodes", AUTHENTICATED)
    )
    # DER (what Python's ssl gives) reads the same as PEM (what gRPC gives).
    der = pki.issue(ca, pki.client_spec("bob")).cert.public_bytes(Encoding.DER)
    assert certificate_user(der) == UserInfo("bob")


def test_bearer_token_parsing() -> None:
    assert bearer_token("Bearer abc") == "abc"
    assert bearer_token("Basic abc") == ""
    assert bearer_token("abc") == ""


def test_token_file_in_kubernetes_format(tmp_path: Path) -> None:
    path = tmp_path / "tokens.csv"
    path.write_text('# comment\n\nt1,alice,1\nt2,bob,2,"devs,ops"\nt3,carol,3,admins\n')
    assert load_token_file(path) == {
        "t1": UserInfo("alice", (), "1"),
        "t2": UserInfo("bob", ("devs", "ops"), "2"),
        "t3": UserInfo("carol", ("admins",), "3"),
    }


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("t1,alice\n", "1: expected token,user,uid", id="two-columns"),
        pytest.param(",alice,1\n", "1: the token and the user must not be empty", id="no-token"),
        pytest.param("t1,,1\n", "1: the token and the user must not be empty", id="no-user"),
        pytest.param("t1,a,1\nt1,b,2\n", "2: duplicate token", id="duplicate"),
    ],
)
def test_bad_token_files_say_which_line(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "tokens.csv"
    path.write_text(text)
    with pytest.raises(TokenFileError) as err:
        load_token_file(path)
    assert f"{path}:{message}" in str(err.value)
