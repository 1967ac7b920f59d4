"""Checks shared by the report tests: numbers on a page against the results they were drawn from."""

from __future__ import annotations

import re

NUMBER = re.compile(r'data-key="([^"]+)" data-digits="(\d)">([^<]+)<')


def page_numbers(page: str) -> list[dict]:
    """The numbers of a page's HTML, as the browser check reports them."""
    return [{"key": key, "digits": int(digits), "text": text} for key, digits, text in NUMBER.findall(page)]


def assert_numbers_match(numbers: list[dict], results: dict) -> None:
    """Every number on the page is its ``data-key``'s value in ``results``, to the digits shown."""
    for number in numbers:
        value = results
        for part in number["key"].split("."):
            value = value[int(part)] if isinstance(value, list) else value[part]
        assert number["text"] == f"{value:.{number['digits']}f}", number["key"]
