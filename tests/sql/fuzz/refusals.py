"""Turns `sluice check` errors into reason categories for the roadmap counts: the message
without the config path, the position and the names of columns or tables it quotes."""

import re

POSITION = re.compile(r" at \d+:\d+\s*$")
QUOTED = re.compile(r'"[^"]*"')
ERROR_LINE = re.compile(r"^\S+ error \[\d+\] (.*)$")


def error_message(output):
    """The last error line of sluice's output, without timestamp and pid."""
    lines = [m.group(1) for m in map(ERROR_LINE.match, output.splitlines()) if m]
    if lines:
        return lines[-1]
    text = output.strip().splitlines()
    return text[-1] if text else "(no output)"


def position(message):
    """(line, column) of the construct a message points at, or None."""
    m = re.search(r" at (\d+):(\d+)\s*$", message)
    return (int(m.group(1)), int(m.group(2))) if m else None


def reason(message):
    text = message.split(": sql: ", 1)[-1] if ": sql: " in message else message
    text = POSITION.sub("", text)
    text = QUOTED.sub('"?"', text)
    return text.strip()
