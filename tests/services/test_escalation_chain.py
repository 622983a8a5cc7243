"""The escalation chain's checks, as every door (the API today) meets them: each refusal
names its field and what is allowed; what passes is kept in a form the worker can send to."""

import pytest

from blina.domain.errors import InvalidInput
from blina.services.escalation import MINUTES_ALLOWED, Chain, ChainContact, checked_chain

NURSE = ChainContact("on-call nurse", email="oncall@clinic.example")


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
