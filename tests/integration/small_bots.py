"""A tiny restaurant bot written for these tests (our own text), and helpers to lay out a project."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def _task(name: str, samples: list[str], actions: list[dict[str, Any]]) -> dict[str, Any]:
    return {"uniqueName": name, "actions": {"actions": actions}, "fields": [],
            "samples": [{"language": "en-US", "taggedText": s} for s in samples]}


def restaurant(*, fallback: str = "task://fallback", book_actions: list[dict[str, Any]] | None = None
               ) -> dict[str, Any]:
    return {
        "friendlyName": "Test bistro", "uniqueName": "bistro",
        "defaults": {"defaults": {"assistant_initiation": "task://greeting", "fallback": fallback}},
        "tasks": [
            _task("greeting", ["hello", "hi", "good morning", "good evening", "hey there"],
                  [{"say": "Welcome to the bistro."}, {"listen": True}]),
            _task("make-reservation", ["book a table", "reserve a table", "table for two",
                                       "i want to book a table tonight", "can i reserve"],
                  book_actions or [{"say": "Your table is booked."}, {"listen": True}]),
            _task("get-specials", ["what are the specials", "specials tonight", "what is the soup of the day",
                                   "any specials"],
                  [{"say": "Tonight: duck."}, {"listen": True}]),
            _task("fallback", [], [{"say": "Sorry, I did not get that."}, {"listen": True}]),
        ],
    }


def write_bot(folder: Path, data: dict[str, Any] | None = None, name: str = "bot.json") -> Path:
    path = folder / name
    path.write_text(json.dumps(data or restaurant(), indent=2), encoding="utf-8")
    return path


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
