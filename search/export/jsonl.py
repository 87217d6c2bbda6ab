"""JSON Lines: one `Record.to_dict` a line, the form our own JSONL reader takes back (an export can be
indexed again, or merged into another index, with no loss), and the easiest for scripts."""

from __future__ import annotations

import json
from collections.abc import Sequence

from corpus.record import Record


def write(records: Sequence[Record]) -> str:
    return "".join(json.dumps(r.to_dict(), ensure_ascii=False) + "\n" for r in records)
