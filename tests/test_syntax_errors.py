"""Syntax diagnostics, pinned exactly: code, line, column, message and hint of each bad input.

Each case is the smallest file showing one mistake; the table reads as documentation of what a user
sees. The parser reports one error per line, no follow-on errors, and a missing token right after the
last good token.
"""

from __future__ import annotations

import pytest

from modelc.diagnostics import Diagnostic
from modelc.parser import TYPES, parse

Expected = tuple[str, int, int, str, str | None]  # code, line, column, message, hint

TYPES_HINT = "types: " + ", ".join(TYPES)
TOP_KEYWORDS_HINT = "expected one of " + ", ".join(
    f"`{k}`" for k in ("bridge", "dimension", "fact", "hub", "import", "link", "model", "pit", "satellite", "source")
)
ENTITY_OR_END = "'bridge', 'dimension', 'fact', 'hub', 'link', 'pit', 'satellite', 'source' or end of file"
COLUMN_HINT = "a column is written `name type`, e.g. `amount decimal(12, 2)`"
STRING_HINT = "close it with '\"' on the same line"
QUOTED_HINT = "names are written without quotes; `backquotes` allow any characters"
LONG_LINE = "source crm.a { " + " ".join(f"c{i} int" for i in range(40)) + " $ }\n"


def case(name: str, source: str | bytes, *expected: Expected):
    return pytest.param(source, list(expected), id=name)


CASES = [
    # ---- misspelt keywords: at the top, in each kind of body, among flags
    case(
        "top_keyword_typo",
        "sourse crm.a {\n  id int\n}\n",
        ("E106", 1, 1, "unknown keyword `sourse`", "did you mean `source`?"),
    ),
    case(
        "header_keyword_typo",
        "modle shop\n\nsource crm.a {\n  id int\n}\n",
        ("E106", 1, 1, "unknown keyword `modle`", "did you mean `model`?"),
    ),
    case(
        "source_body_typo",  # `tset id` would also read as a column: the rest of the line decides
        "source crm.a {\n  id int\n  tset id unique\n}\n",
        ("E106", 3, 3, "unknown keyword `tset`", "did you mean `test`?"),
    ),
    case(
        "dimension_body_typo",
        "dimension d from crm.a {\n  key id\n  sdc2 name\n}\n",
        ("E106", 3, 3, "unknown keyword `sdc2`", "did you mean `scd2`?"),
    ),
    case(
        "fact_body_typo",  # a fact item may start with a name (a reference): not read as `grian -> ...`
        "fact f from crm.o {\n  grian order_id\n  measure amount sum\n}\n",
        ("E106", 2, 3, "unknown keyword `grian`", "did you mean `grain`?"),
    ),
    case(
        "link_body_typo",
        "link l from crm.o {\n  hubs customer(customer_id)\n  transactionl\n}\n",
        ("E106", 3, 3, "unknown keyword `transactionl`", "did you mean `transactional`?"),
    ),
    case(
        "satellite_body_typo",
        "satellite s of h from crm.a {\n  paylod a, b\n}\n",
        ("E106", 2, 3, "unknown keyword `paylod`", "did you mean `payload`?"),
    ),
    case(
        "column_flag_typo",
        "source crm.a {\n  id int nto null\n}\n",
        ("E106", 2, 10, "unknown keyword `nto`", "did you mean `not`?"),
    ),
    case(
        "null_typo",
        "source crm.a {\n  id int not nul\n}\n",
        ("E106", 2, 14, "unknown keyword `nul`", "did you mean `null`?"),
    ),
    # ---- braces
    case(
        "parentheses_for_braces",
        "source crm.a (\n  id int\n)\n",
        ("E101", 1, 14, "unexpected '('; expected '.', 'from' or '{'", "did you mean '{'?"),
        ("E101", 3, 1, "unexpected ')'; expected '(', 'not', 'pii', 'test', '}' or identifier", "did you mean '}'?"),
    ),
    case(
        "missing_close_brace_before_an_indented_entity",
        "source crm.a {\n  id int\n  dimension d from crm.a {\n  key id\n}\n",
        (
            "E108",
            2,
            9,
            "missing '}' to close `source crm.a` before `dimension`",
            "the '{' at line 1, column 14 is still open",
        ),
    ),
    case(
        "missing_close_brace_of_settings",
        'model shop {\n  schema "x"\n\nsource crm.a {\n  id int\n}\n',
        (
            "E108",
            2,
            13,
            "missing '}' to close `model shop` before `source`",
            "the '{' at line 1, column 12 is still open",
        ),
    ),
    case(
        "missing_open_brace",  # not `crm.a.id`: the brace is what lets the next line parse
        "source crm.a\n  id int\n}\n",
        ("E102", 1, 13, "missing '{' after `a`", None),
    ),
    case(
        "missing_close_brace",
        "source crm.a {\n  id int\n\ndimension d from crm.a {\n  key id\n}\n",
        (
            "E108",
            2,
            9,
            "missing '}' to close `source crm.a` before `dimension`",
            "the '{' at line 1, column 14 is still open",
        ),
    ),
    case(
        "missing_close_brace_mid_item",
        "dimension d from crm.a {\n  key\n\nfact f from crm.o {\n  grain id\n}\n",
        (
            "E108",
            2,
            6,
            "`dimension d` is not finished before `fact`; expected identifier",
            "the '{' at line 1, column 24 is still open",
        ),
    ),
    case(
        "entity_typo_after_unclosed",  # two mistakes, two errors
        "source crm.a {\n  id int\n\nsourc crm.b {\n  id int\n}\n",
        (
            "E108",
            2,
            9,
            "missing '}' to close `source crm.a` before `source`",
            "the '{' at line 1, column 14 is still open",
        ),
        ("E106", 4, 1, "unknown keyword `sourc`", "did you mean `source`?"),
    ),
    case(
        "extra_close_brace",
        "source crm.a {\n  id int\n}\n}\n",
        ("E101", 4, 1, "unexpected '}': no '{' is open here", "remove it"),
    ),
    case(
        "extra_open_brace",
        "source crm.a {{\n  id int\n}\n",
        ("E101", 1, 15, "unexpected '{'; expected 'test', '}' or identifier", "remove it"),
    ),
    case(
        "stray_open_brace_in_body",
        "source crm.a {\n  id int\n  {\n}\n",
        ("E101", 3, 3, "unexpected '{'; expected '(', 'not', 'pii', 'test', '}' or identifier", "remove it"),
    ),
    # ---- missing punctuation and keywords
    case(
        "missing_comma_scd",
        "dimension d from crm.a {\n  scd2 name email\n}\n",
        ("E102", 2, 12, "missing ',' after `name`", None),
    ),
    case(
        "missing_comma_key",
        "dimension d from crm.a {\n  key id id2\n}\n",
        ("E102", 2, 9, "missing ',' after `id`", None),
    ),
    case(
        "missing_comma_sources",
        "hub h from crm.a(id) erp.b(id) {\n  key id\n}\n",
        ("E102", 1, 21, "missing ',' after ')'", None),
    ),
    case(
        "missing_comma_hubs",
        "link l from crm.o {\n  hubs customer(customer_id) product(product_id)\n}\n",
        ("E102", 2, 29, "missing ',' after ')'", None),
    ),
    case(
        "missing_comma_values",
        'source crm.a {\n  test status in ["a" "b"]\n}\n',
        ("E102", 2, 22, "missing ',' after string \"a\"", None),
    ),
    case(
        "missing_from_dimension",
        "dimension d crm.a {\n  key id\n}\n",
        ("E102", 1, 12, "missing 'from' after `d`", None),
    ),
    case(
        "missing_from_satellite",
        "satellite s of h crm.a {\n  payload a\n}\n",
        ("E102", 1, 17, "missing 'from' after `h`", None),
    ),
    case(
        "missing_of_satellite",
        "satellite s h from crm.a {\n  payload a\n}\n",
        ("E102", 1, 12, "missing 'of' after `s`", None),
    ),
    case(
        "missing_on",
        "fact f from crm.o {\n  incremental order_date\n}\n",
        ("E102", 2, 14, "missing 'on' after 'incremental'", None),
    ),
    case(
        "missing_by",
        "fact f from crm.o {\n  partition order_date\n}\n",
        ("E102", 2, 12, "missing 'by' after 'partition'", None),
    ),
    case(
        "missing_equal",
        'dimension d from crm.a {\n  derive full_name string "a || b"\n}\n',
        ("E102", 2, 26, "missing '=' after `string`", None),
    ),
    case(
        "missing_arrow",
        "fact f from crm.o {\n  customer customers\n}\n",
        ("E102", 2, 11, "missing '->' after `customer`", None),
    ),
    case(
        "missing_close_paren",
        "fact f from crm.o {\n  customer -> d (id at id\n}\n",
        ("E102", 2, 20, "missing ')' after `id`", None),
    ),
    case(
        "missing_close_bracket",
        'source crm.a {\n  test s in ["a", "b"\n}\n',
        ("E102", 2, 22, "missing ']' after string \"b\"", None),
    ),
    case(
        "missing_and",
        "source crm.a {\n  test x between 1\n}\n",
        ("E102", 2, 19, "missing 'and' after integer 1", None),
    ),
    case(
        "missing_null",
        "source crm.a {\n  x int not\n}\n",
        ("E102", 2, 12, "missing 'null' after 'not'", None),
    ),
    # ---- a line that ends too early: reported at its end, not on the next line
    case(
        "missing_at_column",  # `measure` on the next line is not taken as the column
        "fact f from crm.o {\n  customer -> customers (customer_id) at\n  measure amount\n}\n",
        ("E102", 2, 41, "missing identifier after 'at'", None),
    ),
    case(
        "missing_type",
        "source crm.a {\n  id int\n  c\n}\n",
        ("E102", 3, 4, "missing type after `c`", COLUMN_HINT),
    ),
    case(
        "missing_type_next_line_has_column",  # `d` is not taken as the type of `c`
        "source crm.a {\n  c\n  d int\n}\n",
        ("E102", 2, 4, "missing type after `c`", COLUMN_HINT),
    ),
    case(
        "missing_key_column",  # `scd2` is not taken as the key column
        "dimension d from crm.a {\n  key\n  scd2 name\n}\n",
        ("E102", 2, 6, "missing identifier after 'key'", None),
    ),
    case(
        "missing_setting_value",
        "model shop {\n  dialect duckdb\n  schema\n}\n",
        ("E102", 3, 9, "missing value after `schema`", None),
    ),
    case(
        "missing_string",
        "dimension d from crm.a {\n  where\n  key id\n}\n",
        ("E102", 2, 8, "missing string after 'where'", None),
    ),
    case(
        "missing_date",
        "pit p of h {\n  spine day from 2020-01-01 to\n}\n",
        ("E102", 2, 31, "missing date (YYYY-MM-DD) after 'to'", None),
    ),
    case(
        "missing_measure_name",
        "fact f from crm.o {\n  measure amount sum\n  measure\n}\n",
        ("E102", 3, 10, "missing identifier after 'measure'", None),
    ),
    # ---- types and their parameters
    case(
        "unknown_type_near",
        "source crm.a {\n  id integr\n}\n",
        ("E110", 2, 6, "unknown type `integr`", "did you mean `int`?"),
    ),
    case(
        "unknown_type_far",
        "source crm.a {\n  id blob\n}\n",
        ("E110", 2, 6, "unknown type `blob`", TYPES_HINT),
    ),
    case(
        "decimal_out_of_range",
        "source crm.a {\n  id decimal(40, 2)\n}\n",
        ("E111", 2, 6, "decimal needs a precision 1..38 and a scale 0..precision", "for example decimal(12, 2)"),
    ),
    case(
        "decimal_without_parameters",
        "source crm.a {\n  id decimal\n}\n",
        ("E111", 2, 6, "decimal needs a precision 1..38 and a scale 0..precision", "for example decimal(12, 2)"),
    ),
    case(
        "string_length_zero",
        "source crm.a {\n  id string(0)\n}\n",
        ("E111", 2, 6, "string takes one positive length, as in string(20)", None),
    ),
    case(
        "int_with_parameter",
        "source crm.a {\n  id int(3)\n}\n",
        ("E111", 2, 6, "type `int` takes no parameters", None),
    ),
    case(
        "parameter_missing_after_comma",
        "source crm.a {\n  id decimal(12,)\n}\n",
        ("E102", 2, 17, "missing integer after ','", None),
    ),
    case(
        "parameter_not_an_integer",
        "source crm.a {\n  id string(a)\n}\n",
        ("E101", 2, 13, "unexpected `a`; expected integer", None),
    ),
    case(
        "parameters_without_comma",
        "source crm.a {\n  id decimal(12 2)\n}\n",
        ("E102", 2, 16, "missing ',' after integer 12", None),
    ),
    case(
        "parameter_list_unclosed",  # the invented `0` raises no E111; the next line is fine
        "source crm.a {\n  name string(\n  email string\n}\n",
        ("E102", 2, 15, "missing integer after '('", None),
    ),
    # ---- literals
    case(
        "invalid_calendar_dates",
        "dimension d calendar 2020-13-01 .. 2020-02-30\n",
        ("E109", 1, 22, "invalid date 2020-13-01", "write YYYY-MM-DD"),
        ("E109", 1, 36, "invalid date 2020-02-30", "write YYYY-MM-DD"),
    ),
    case(
        "invalid_spine_date",
        "pit p of h {\n  spine day from 2020-01-01 to 2030-99-01\n}\n",
        ("E109", 2, 32, "invalid date 2030-99-01", "write YYYY-MM-DD"),
    ),
    case(
        "unterminated_string_swallows_brace",  # the lost '{' is no second error
        'source crm.a from "raw/a.csv {\n  id int\n}\n',
        ("E104", 1, 19, "unterminated string", STRING_HINT),
    ),
    case(
        "unterminated_string_in_body",
        'dimension d from crm.a {\n  where "x > 1\n  key id\n}\n',
        ("E104", 2, 9, "unterminated string", STRING_HINT),
    ),
    case(
        "unterminated_quoted_name",
        "source crm.a {\n  `id int\n  b int\n}\n",
        ("E105", 2, 3, "unterminated quoted name", "close it with '`' on the same line"),
    ),
    # ---- characters
    case(
        "stray_character",
        "source crm.a {\n  id int $\n}\n",
        ("E103", 2, 10, "unexpected character '$'", None),
    ),
    case(
        "stray_characters_are_one_error",
        "source crm.a {\n  id int $$$\n}\n",
        ("E103", 2, 10, "unexpected characters '$$$'", None),
    ),
    case(
        "slash_comment",
        "source crm.a {\n  id int\n  // comment\n}\n",
        ("E103", 3, 3, "unexpected characters '//'", "comments start with '#'"),
    ),
    case(
        "semicolon",
        "source crm.a {\n  id int;\n  b int\n}\n",
        ("E103", 2, 9, "unexpected character ';'", "lines need no ';' at the end"),
    ),
    case(
        "colon_in_setting",
        "model shop { dialect: duckdb }\n",
        ("E103", 1, 21, "unexpected character ':'", "no ':' here: a setting is written `name value`"),
    ),
    case(
        "control_character",
        "source crm.a {\n  id int \x07\n}\n",
        ("E103", 2, 10, "unexpected character '\\x07'", None),
    ),
    case(
        "tabs_in_indentation",
        "source crm.a {\n\tid int\n\tb int\n}\n",
        ("W101", 2, 1, "tab character in indentation (and 1 more line)", "indent with spaces; `modelc fmt` fixes this"),
    ),
    case(
        "invalid_utf8_each_byte",
        b"source crm.a {\n  id int\xff\xfe\n}\n",
        ("E100", 2, 9, "invalid UTF-8 byte 0xff", "save the file as UTF-8"),
        ("E100", 2, 10, "invalid UTF-8 byte 0xfe", "save the file as UTF-8"),
    ),
    case(
        "invalid_utf8_in_a_name",  # the name split in two is no second error
        b"source cr\xe9m.a {\n  id int\n}\n",
        ("E100", 1, 10, "invalid UTF-8 byte 0xe9", "save the file as UTF-8"),
    ),
    case(
        "truncated_utf8_sequence",
        b"source crm.a {\n  id int \xe2\x82\n}\n",
        ("E100", 2, 10, "invalid UTF-8 sequence 0xe2 0x82", "save the file as UTF-8"),
    ),
    # ---- the file as a whole
    case("empty_file", "", ("W102", 1, 1, "the file defines nothing", "start with `model NAME`")),
    case(
        "only_a_comment",
        "# only a comment\n",
        ("W102", 1, 1, "the file defines nothing (only comments)", "start with `model NAME`"),
    ),
    case(
        "import_after_entity",
        'source crm.a {\n  id int\n}\nimport "x.dm"\n',
        ("E112", 4, 1, "`import` must come before the first entity", "move it above the first entity (line 1)"),
    ),
    case(
        "second_model_line",
        "model a\nmodel b\nsource crm.a {\n  id int\n}\n",
        ("E112", 2, 1, "a file has only one `model` line", "the `model` line is at line 1"),
    ),
    case(
        "model_after_import",
        'import "a.dm"\nmodel shop\n',
        ("E112", 2, 1, "the `model` line must come first", "move it to the top of the file"),
    ),
    case(
        "import_without_string",
        "import x.dm\nsource crm.a {\n  id int\n}\n",
        ("E101", 1, 8, "unexpected `x`; expected string", None),
    ),
    case(
        "eof_in_body",
        "source crm.a {\n  id int\n",
        (
            "E107",
            2,
            9,
            "unexpected end of file: missing '}' to close `source crm.a`",
            "the '{' at line 1, column 14 is never closed",
        ),
    ),
    case(
        "eof_in_header",
        "dimension d from crm.a\n",
        ("E107", 1, 23, "unexpected end of file; expected '.' or '{'", None),
    ),
    case(
        "eof_mid_item",
        "fact f from crm.o {\n  incremental",
        (
            "E107",
            2,
            14,
            "unexpected end of file; expected 'on'",
            "the '{' of `fact f` at line 1, column 19 is never closed",
        ),
    ),
    case(
        "eof_after_open_paren",
        "hub h from crm.a(",
        ("E107", 1, 18, "unexpected end of file; expected identifier", None),
    ),
    # ---- extra tokens
    case(
        "commas_after_columns",
        "source crm.a {\n  id int not null,\n  name string,\n}\n",
        ("E101", 2, 18, "unexpected ','; expected 'not', 'pii', 'test', '}' or identifier", "remove it"),
        ("E101", 3, 14, "unexpected ','; expected '(', 'not', 'pii', 'test', '}' or identifier", "remove it"),
    ),
    case(
        "quoted_entity_name",
        'source "crm.a" {\n  id int\n}\n',
        ("E101", 1, 8, 'unexpected string "crm.a"; expected identifier', QUOTED_HINT),
    ),
    case(
        "garbage_lines_one_error_each",  # the words that read as columns of unknown types are not reported
        "source crm.a {\n  id int\n  this is some garbage ( line\n  and another ] one\n  b int\n}\n",
        ("E102", 3, 25, "missing integer after '('", None),
        ("E101", 4, 15, "unexpected ']'; expected '(', 'not', 'pii', 'test', '}' or identifier", None),
    ),
    case(
        "trailing_comma",
        "fact f from crm.o {\n  grain id\n  measure amount sum,\n}\n",
        ("E101", 3, 21, "unexpected ','; expected '}', identifier or a keyword", "remove it"),
    ),
    case(
        "garbage_at_top",
        "hello world\nsource crm.a {\n  id int\n}\n",
        ("E101", 1, 1, "unexpected `hello`; expected end of file or a keyword", TOP_KEYWORDS_HINT),
    ),
    case(
        "garbage_after_entity",
        "source crm.a {\n  id int\n} x\n",
        ("E101", 3, 3, f"unexpected `x`; expected {ENTITY_OR_END}", "remove it"),
    ),
    case(
        "very_long_line",
        LONG_LINE,
        ("E103", 1, 326, "unexpected character '$'", None),
    ),
]


def _summary(diags: tuple[Diagnostic, ...]) -> list[Expected]:
    return [(d.code, d.span.line, d.span.column, d.message, d.hint) for d in diags]


@pytest.mark.parametrize(("source", "expected"), CASES)
def test_syntax_error(source: str | bytes, expected: list[Expected]) -> None:
    result = parse(source, "t.dm")
    assert _summary(result.diagnostics) == expected
    assert result.ok == (not any(code.startswith("E") for code, *_ in expected))


SYNTAX = {"E101", "E102", "E106", "E107", "E108", "E112"}


def _apply_fixes(text: str, diags: tuple[Diagnostic, ...]) -> str:
    for fix in sorted((d.fix for d in diags if d.fix), key=lambda f: f.span.start, reverse=True):
        text = text[: fix.span.start] + fix.text + text[fix.span.end :]
    return text


def _has_fix(source: str | bytes) -> bool:
    return any(d.fix for d in parse(source, "t.dm").diagnostics if d.code in SYNTAX)


FIXABLE = [c for c in CASES if _has_fix(c.values[0])]


def test_most_syntax_errors_offer_a_fix() -> None:
    assert len(FIXABLE) >= 30


@pytest.mark.parametrize(("source", "expected"), FIXABLE)
def test_quick_fixes_mend_the_syntax(source: str | bytes, expected: list[Expected]) -> None:
    """Where a syntax diagnostic offers a fix, applying it leaves no syntax error."""
    result = parse(source, "t.dm")
    fixed = parse(_apply_fixes(result.text, result.diagnostics), "t.dm")
    assert [d for d in fixed.diagnostics if d.code in SYNTAX] == []


def test_three_errors_in_three_entities_are_three_diagnostics() -> None:
    text = """model shop

source crm.customers {
  customer_id int not null
  tset customer_id unique
}

dimension customer from crm.customers {
  key customer_id
  scd2 name segment
}

fact orders from crm.orders {
  grain order_id
  measure amount sum,
}
"""
    result = parse(text, "t.dm")
    assert [(d.code, d.span.line, d.span.column) for d in result.diagnostics] == [
        ("E106", 5, 3),
        ("E102", 10, 12),
        ("E101", 15, 21),
    ]
    # Recovery kept every entity and the items around the errors.
    assert [e.name.value for e in result.module.entities] == ["crm.customers", "customer", "orders"]
    assert len(result.module.entities[1].items) == 2


def test_errors_on_adjacent_lines_of_one_body_are_each_reported() -> None:
    text = "dimension d from crm.a {\n  key id id2\n  sdc2 name\n  changed_by\n}\n"
    assert _summary(parse(text, "t.dm").diagnostics) == [
        ("E102", 2, 9, "missing ',' after `id`", None),
        ("E106", 3, 3, "unknown keyword `sdc2`", "did you mean `scd2`?"),
        ("E102", 4, 13, "missing value after 'changed_by'", None),
    ]


def test_adjacent_lines_with_type_errors_and_syntax_errors() -> None:
    text = "source crm.a {\n  id integr\n  name string(\n  email strin pii\n  x int not\n}\n"
    assert [(d.code, d.span.line) for d in parse(text, "t.dm").diagnostics] == [
        ("E110", 2),
        ("E102", 3),
        ("E110", 4),
        ("E102", 5),
    ]


def test_a_line_repaired_at_its_start_is_still_checked() -> None:
    """The missing ')' is made up at the end of line 2; line 3 is then read afresh: its typo is found."""
    text = "source crm.a {\n  p decimal(10, 2\n  tset p unique\n}\n"
    assert _summary(parse(text, "t.dm").diagnostics) == [
        ("E102", 2, 18, "missing ')' after integer 2", None),
        ("E106", 3, 3, "unknown keyword `tset`", "did you mean `test`?"),
    ]


def test_one_error_per_line() -> None:
    """A line that is wrong in several ways shows its first problem only: the rest is noise."""
    result = parse("fact f from crm.o {\n  grain a b c d e f\n}\n", "t.dm")
    assert [(d.code, d.span.line) for d in result.diagnostics] == [("E102", 2)]


@pytest.mark.parametrize(
    "source",
    [
        "source crm.a {\n  key int\n  from string\n  date date\n}\n",  # keywords as column names
        "source `crm`.`a b` {\n  `id` int\n  `x``y` string\n}\n",  # quoted names
        "\ufeffmodel shop\n",  # a byte order mark
        "model shop\r\n\r\nsource crm.a {\r\n  id int\r\n}\r\n",  # CRLF line ends
        "source crm.a {\n  text string\n  nots int\n}\n",  # names next to keywords stay names
    ],
    ids=["keywords_as_names", "quoted_names", "bom", "crlf", "near_keyword_names"],
)
def test_valid_input_has_no_diagnostics(source: str) -> None:
    assert parse(source, "t.dm").diagnostics == ()


def test_bom_bytes_are_not_part_of_the_text() -> None:
    result = parse(b"\xef\xbb\xbfmodel shop\n", "t.dm")
    assert result.diagnostics == ()
    assert result.text == "model shop\n"


def test_invalid_utf8_is_reported_ten_times_at_most() -> None:
    result = parse(b"model shop\n# " + b"\xff" * 25 + b"\n", "t.dm")
    assert [d.code for d in result.diagnostics] == ["E100"] * 10
    assert result.diagnostics[-1].message == "invalid UTF-8 byte 0xff (15 more not shown)"
    assert result.diagnostics[-1].span.column == 12


def test_syntax_errors_do_not_lose_the_rest_of_the_file() -> None:
    text = "source crm.a {\n  id int $\n  b strin\n}\ndimension d from crm.a {\n  key id\n}\n"
    result = parse(text, "t.dm")
    assert [(d.code, d.span.line) for d in result.diagnostics] == [("E103", 2), ("E110", 3)]
    assert [type(e).__name__ for e in result.module.entities] == ["Source", "Dimension"]
