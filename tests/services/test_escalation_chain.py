"""The escalation chain's checks, as every door (the API today) meets them: each refusal
names its field and what is allowed; what passes is kept in a form the worker can send to."""

import pytest

from blina.domain.errors import InvalidInput
from blina.services.escalation import MINUTES_ALLOWED, Chain, ChainContact, checked_chain

NURSE = ChainContact("on-call nurse", email="oncall@clinic.example")
# (the field, and what its refusal says is allowed) of the second contact's addresses
WEBHOOK = ("contacts.1.webhook_url", "http:// or https://")
EMAIL = ("contacts.1.email", "an e-mail address such as name@clinic.org")


@pytest.mark.parametrize(
    ("chain", "field", "allowed"),
    [
        (Chain([], {}), "contacts", "at least one contact"),
        (Chain([ChainContact("  ", email="a@clinic.example")], {}), "contacts.0.name", "1 to 200"),
        (Chain([ChainContact("x" * 201, email="a@clinic.example")], {}), "contacts.0.name", "1 to"),
        (Chain([ChainContact("nobody")], {}), "contacts.0", "an email, a webhook_url, or both"),
        (
            Chain([NURSE, ChainContact("mail", email="a" * 190 + "@clinic.example")], {}),
            "contacts.1.email",
            "at most 200 characters",
        ),
        (
            Chain([ChainContact("mail", email="ñandú@clinic.example")], {}),
            "contacts.0.email",
            "Internationalized characters before the @-sign are not supported",
        ),
        (
            Chain([ChainContact("hook", webhook_url="https://pager.example:99999/")], {}),
            "contacts.0.webhook_url",
            "http:// or https://",
        ),
        (
            Chain([ChainContact("hook", webhook_url="https://pager.example/" + "x" * 500)], {}),
            "contacts.0.webhook_url",
            "at most 500 characters",
        ),
        (
            Chain([ChainContact("hook", webhook_url="https://pagér.example/")], {}),
            "contacts.0.webhook_url",
            "non-ASCII",
        ),
        (
            Chain([ChainContact("nobody", email="")], {}),
            "contacts.0",
            "given an email, a webhook_url, or both",
        ),
        (Chain([NURSE, ChainContact("hook", webhook_url="http://[")], {}), *WEBHOOK),
        (Chain([NURSE, ChainContact("hook", webhook_url="ftp://pager.example/x")], {}), *WEBHOOK),
        (
            Chain([NURSE, ChainContact("hook", webhook_url="https:///no-host")], {}),
            "contacts.1.webhook_url",
            "with a host",
        ),
        (
            Chain([NURSE, ChainContact("hook", webhook_url="https://pager.example:http/")], {}),
            "contacts.1.webhook_url",
            "http",
        ),
        (
            Chain([NURSE, ChainContact("hook", webhook_url="https://pager.example/a b")], {}),
            "contacts.1.webhook_url",
            "spaces",
        ),
        (
            Chain(
                [
                    NURSE,
                    ChainContact("hook", webhook_url="https://pager.example/\r\nX-Injected: 1"),
                ],
                {},
            ),
            "contacts.1.webhook_url",
            "line breaks",
        ),
        (
            Chain(
                [
                    NURSE,
                    ChainContact("mail", email="x@clinic.example\r\nBcc: everyone@clinic.example"),
                ],
                {},
            ),
            *EMAIL,
        ),
        (Chain([NURSE, ChainContact("mail", email="not-an-address")], {}), *EMAIL),
        (
            Chain([NURSE, ChainContact("mail", email="nurse@clinic.localhost")], {}),
            "contacts.1.email",
            "special-use",
        ),
        (Chain([NURSE], {"soon": 5}), "minutes", "one of emergency, call-now, same-day, routine"),
        (Chain([NURSE], {"emergency": 2**62}), "minutes.emergency", MINUTES_ALLOWED),
        (Chain([NURSE], {"routine": 0}), "minutes.routine", MINUTES_ALLOWED),
    ],
)
def test_a_chain_out_of_bounds_is_refused_naming_the_field(
    chain: Chain, field: str, allowed: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        checked_chain(chain)

    assert caught.value.field == field
    assert allowed in caught.value.allowed


def test_an_email_s_domain_is_kept_in_lower_case_and_a_webhook_as_given() -> None:
    chain = Chain(
        [
            ChainContact("on-call nurse", email="OnCall@Clinic.Example"),
            ChainContact("pager", webhook_url="https://[::1]:8443/hook?key=s3cret"),
        ],
        {"emergency": 1, "call-now": 10080},
    )

    assert checked_chain(chain) == Chain(
        [
            ChainContact("on-call nurse", email="OnCall@clinic.example"),
            ChainContact("pager", webhook_url="https://[::1]:8443/hook?key=s3cret"),
        ],
        {"emergency": 1, "call-now": 10080},
    )


def test_a_chain_is_kept_trimmed_and_with_addresses_any_mail_server_takes() -> None:
    chain = Chain(
        [
            ChainContact(" on-call nurse ", email="Nurse@Café.example", webhook_url=""),
            ChainContact("pager", email="", webhook_url="http://10.0.0.7:8080/hook"),
        ],
        {"emergency": 1, "call-now": 10080},
    )

    assert checked_chain(chain) == Chain(
        [
            ChainContact("on-call nurse", email="Nurse@xn--caf-dma.example"),
            ChainContact("pager", webhook_url="http://10.0.0.7:8080/hook"),
        ],
        {"emergency": 1, "call-now": 10080},
    )
