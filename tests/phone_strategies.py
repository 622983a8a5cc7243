"""Hypothesis strategies for phone numbers as people type them (``services.phones``).

``phone_like`` draws any text of the characters a number may hold, of any length and
digit count, with spaces around it, so that both sides of every bound are drawn;
``any_text`` adds every other character, so that a refusal is drawn for each rule.
"""

from hypothesis import strategies as st

PHONE_CHARACTERS = "0123456789 +-()."


def phone_like() -> st.SearchStrategy[str]:
    """Text of digits, spaces and ``+ - ( ) .``, 0 to 40 characters, maybe padded with
    spaces: accepted or refused by its length and its digits alone."""
    core = st.text(alphabet=PHONE_CHARACTERS, max_size=40)
    pad = st.text(alphabet=" \t", max_size=3)
    return st.builds(lambda before, text, after: before + text + after, pad, core, pad)


def any_text() -> st.SearchStrategy[str]:
    """Phone-like text with any other characters mixed in (letters, other digits such as
    Arabic-Indic ones, slashes, NUL)."""
    return st.one_of(
        phone_like(),
        st.text(
            alphabet=st.one_of(st.sampled_from(PHONE_CHARACTERS), st.characters()), max_size=40
        ),
    )
