"""`render()`: the documented text form of a diagnostic, exact to the character."""

from __future__ import annotations

import re

from modelc.ast import Span
from modelc.diagnostics import Diagnostic, error, render, warning
from modelc.parser import parse


def diag(line: int, col: int, end_col: int, hint: str | None = None, end_line: int | None = None) -> Diagnostic:
    return error("E101", "something is wrong", Span("m.dm", line, col, end_line or line, end_col), hint=hint)


def test_the_documented_format() -> None:
    result = parse("source crm.a {\n  id integr\n}\n", "models/shop.dm")
    assert render(result.diagnostics[0], result.text) == (
        "models/shop.dm:2:6: error[E110]: unknown type `integr`\n"
        "   2 |   id integr\n"
        "     |      ^^^^^^\n"
        "   = hint: did you mean `int`?"
    )


def test_warning_format() -> None:
    d = warning("W101", "tab character in indentation", Span("m.dm", 1, 1, 1, 2), hint="indent with spaces")
    assert render(d, "\tid int") == (
        "m.dm:1:1: warning[W101]: tab character in indentation\n   1 |  id int\n     | ^\n   = hint: indent with spaces"
    )


def test_caret_position_and_width() -> None:
    lines = render(diag(1, 8, 11), "source crm.a {").split("\n")
    assert lines[1] == "   1 | source crm.a {"
    assert lines[2] == "     |        ^^^"
    assert lines[1].index("crm") == lines[2].index("^")


def test_zero_width_span_gets_one_caret_after_the_last_character() -> None:
    """A missing token is reported right after the last good token, possibly at the end of the line."""
    assert render(diag(1, 13, 13), "source crm.a").split("\n")[2] == "     |             ^"


def test_span_over_several_lines_underlines_to_the_end_of_the_first() -> None:
    assert render(diag(1, 8, 3, end_line=2), "source crm.a {\n}").split("\n")[2] == "     |        ^^^^^^^"


def test_span_past_the_end_of_the_line_is_clamped() -> None:
    assert render(diag(1, 5, 40), "abcdef").split("\n")[2] == "     |     ^^"


def test_hint_line_only_when_there_is_a_hint() -> None:
    assert render(diag(1, 1, 2, hint="try this"), "x").split("\n")[-1] == "   = hint: try this"
    assert "hint" not in render(diag(1, 1, 2), "x")


def test_without_source_only_the_message_and_the_hint() -> None:
    assert render(diag(3, 4, 5, hint="h")) == "m.dm:3:4: error[E101]: something is wrong\n   = hint: h"


def test_a_line_beyond_the_source_shows_no_source_line() -> None:
    assert render(diag(9, 1, 2), "one line") == "m.dm:9:1: error[E101]: something is wrong"


def test_long_line_shows_a_window_with_both_ends_cut() -> None:
    text = "".join(chr(ord("a") + i % 26) for i in range(300))
    lines = render(diag(1, 151, 154), text).split("\n")
    shown = lines[1].removeprefix("   1 | ")
    assert shown.startswith("...") and shown.endswith("...")
    assert len(shown) == 106  # 100 characters of the line and two cut marks
    caret = lines[2].index("^")
    assert lines[2].count("^") == 3
    assert lines[1][caret : caret + 3] == text[150:153]


def test_long_line_near_its_start_is_cut_at_the_end_only() -> None:
    text = "x" * 10 + "$" + "y" * 200
    lines = render(diag(1, 11, 12), text).split("\n")
    assert lines[1] == "   1 | " + "x" * 10 + "$" + "y" * 89 + "..."
    assert lines[2] == "     | " + " " * 10 + "^"


def test_long_line_near_its_end_is_cut_at_the_start_only() -> None:
    text = "x" * 200 + "$"
    lines = render(diag(1, 201, 202), text).split("\n")
    assert lines[1] == "   1 | ..." + "x" * 99 + "$"
    assert lines[2] == "     | " + " " * 102 + "^"


def test_caret_never_runs_past_the_window() -> None:
    text = "x" * 500
    lines = render(diag(1, 10, 490), text).split("\n")
    assert len(lines[2]) <= len(lines[1])


def test_long_line_from_the_parser() -> None:
    columns = [f"c{i} int" for i in range(80)]
    text = "source crm.a { " + " ".join(columns[:40]) + " $ " + " ".join(columns[40:]) + " }\n"
    result = parse(text, "t.dm")
    lines = render(result.diagnostics[0], result.text).split("\n")
    assert lines[0] == "t.dm:1:326: error[E103]: unexpected character '$'"
    assert lines[1][lines[2].index("^")] == "$"
    assert lines[1].startswith("   1 | ...") and lines[1].endswith("...")


def test_colour_only_when_asked() -> None:
    d = diag(1, 1, 2, hint="h")
    assert "\x1b" not in render(d, "x")
    coloured = render(d, "x", colour=True)
    assert "\x1b[1;31merror[E101]\x1b[0m" in coloured  # severity in red
    assert "\x1b[1msomething is wrong\x1b[0m" in coloured  # message in bold
    assert coloured.count("\x1b[0m") >= 5
    # Stripped of its codes, the coloured text is the plain one.
    assert re.sub(r"\x1b\[[0-9;]*m", "", coloured) == render(d, "x")


def test_warning_colour_is_yellow() -> None:
    d = warning("W102", "the file defines nothing", Span("m.dm", 1, 1, 1, 1))
    assert "\x1b[1;33mwarning[W102]\x1b[0m" in render(d, "", colour=True)


def test_tabs_show_as_one_space_so_the_caret_stays_aligned() -> None:
    """The lexer counts a tab as one column; so does the rendered line."""
    result = parse("source crm.a {\n\tid\tint $\n}\n", "t.dm")
    e103 = next(d for d in result.diagnostics if d.code == "E103")
    lines = render(e103, result.text).split("\n")
    assert lines[1] == "   2 |  id int $"
    assert lines[1][lines[2].index("^")] == "$"


def test_crlf_line_ends_are_not_shown() -> None:
    result = parse("source crm.a {\r\n  id int $\r\n}\r\n", "t.dm")
    assert render(result.diagnostics[0], result.text).split("\n")[1] == "   2 |   id int $"


def test_control_characters_cannot_reach_the_terminal() -> None:
    d = error("E103", "bad \x1b[2J thing", Span("m.dm", 1, 3, 1, 4), hint="\x1b]0;title\x07")
    out = render(d, "ab\x1bcd")
    assert "\x1b" not in out and "\x07" not in out
    assert out.split("\n")[1] == "   1 | ab?cd"


def test_lines_are_counted_as_the_lexer_counts_them() -> None:
    """Form feed and other Unicode line breaks do not end a line for the lexer, nor for `render()`."""
    text = "a\x0cb\u2028c\nsecond $"
    assert render(diag(2, 8, 9), text).split("\n")[1] == "   2 | second $"
