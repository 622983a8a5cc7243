"""The exception tree: one message shape naming the field, the value and what is allowed."""

import pytest

from blina.domain.errors import BlinaError, InvalidInput, KnowledgeError, UnknownId


def test_invalid_input_message_names_field_value_and_allowed() -> None:
    error = InvalidInput("weight_kg", "0", "> 0 and <= 350")

    assert str(error) == "weight_kg 0 is not allowed: must be > 0 and <= 350"
    assert (error.field, error.value, error.allowed) == ("weight_kg", "0", "> 0 and <= 350")


def test_invalid_input_is_a_blina_error_and_a_value_error() -> None:
    with pytest.raises(ValueError, match=r"^cycles 0 is not allowed"):
        raise InvalidInput("cycles", 0, ">= 1")
    assert issubclass(InvalidInput, BlinaError)


def test_unknown_id_message_lists_known_ids() -> None:
    error = UnknownId("indication", "x", iter(["a", "b"]))

    assert str(error) == "indication x is not known: must be one of a, b"
    assert (error.kind, error.value, error.known) == ("indication", "x", ("a", "b"))


def test_unknown_id_is_a_blina_error_and_a_lookup_error() -> None:
    with pytest.raises(LookupError):
        raise UnknownId("indication", "x", [])
    assert issubclass(UnknownId, BlinaError)


def test_knowledge_error_message_names_file_and_key_path() -> None:
    error = KnowledgeError("regimens.toml", "regimens[0].id", "appears twice")

    assert str(error) == "regimens.toml: regimens[0].id: appears twice"
    assert (error.file, error.key_path, error.problem) == (
        "regimens.toml",
        "regimens[0].id",
        "appears twice",
    )
    assert isinstance(error, BlinaError)
    assert not isinstance(error, ValueError)
