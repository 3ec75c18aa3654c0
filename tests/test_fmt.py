"""The formatter: canonical layout of every construct, comment placement, the CLI, and properties on random models."""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Callable
from datetime import date
from pathlib import Path
from textwrap import dedent
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelc import ast
from modelc.cli import main
from modelc.fmt import format_module, format_text
from modelc.parser import lark_parser, parse

ROOT = Path(__file__).resolve().parent.parent


def fmt(text: str) -> str:
    """Format `text` and check the formatter's promises on it."""
    result = parse(text)
    assert result.ok, result.diagnostics
    out = format_text(result)
    again = parse(out)
    assert again.ok, (out, again.diagnostics)
    assert again.module == result.module, out  # structure, docs included
    assert Counter(c.text for c in again.module.comments) == Counter(c.text for c in result.module.comments), out
    assert format_text(again) == out, out  # idempotent
    assert out == "" or (out.endswith("\n") and not out.endswith("\n\n"))
    for line in out.split("\n"):
        assert line == line.rstrip(), repr(line)
        assert not line.startswith("\t") and "\t" not in line[: len(line) - len(line.lstrip())], repr(line)
        assert not line.startswith(" ") or (len(line) - len(line.lstrip(" "))) % 2 == 0, repr(line)
    assert "\n\n\n" not in out
    return out


def src(text: str) -> str:
    return dedent(text).lstrip("\n")


# ---- every construct --------------------------------------------------------------------------

CASES: dict[str, tuple[str, str]] = {
    "empty file": ("", ""),
    "model": ("model   shop", "model shop\n"),
    "model with settings": (
        'model shop {dialect duckdb schema "x" limit 10}',
        'model shop {\n  dialect duckdb\n  schema "x"\n  limit 10\n}\n',
    ),
    "model with empty settings": ("model shop { }", "model shop\n"),
    "imports": (
        'model m\nimport   "a.dm" import "b.dm"',
        'model m\n\nimport "a.dm"\nimport "b.dm"\n',
    ),
    "imports without model": ('import "a.dm"\n\n\n\nimport "b.dm"', 'import "a.dm"\n\nimport "b.dm"\n'),
    "source": (
        'source crm.customers from "raw/c.csv" { customer_id int not null\n full_name string(200) pii\n'
        "created_at timestamp pii not null amount decimal(12,2) }",
        src("""
        source crm.customers from "raw/c.csv" {
          customer_id  int             not null
          full_name    string(200)     pii
          created_at   timestamp       not null pii
          amount       decimal(12, 2)
        }
        """),
    ),
    "source without location or flags": (
        "source s{a int b bool}",
        "source s {\n  a  int\n  b  bool\n}\n",
    ),
    "empty bodies": (
        "source s {}\nhub h from s {\n\n}",
        "source s {}\n\nhub h from s {}\n",
    ),
    "source tests": (
        'source s { a int test a unique test a, b not null test a in [1, -2.5e3, "x", null, true, false, '
        "2020-01-01, 2020-01-01T10:00:00Z, some_name] test a between 0 and 10 test a, b references t(c, d) "
        'test "a > 0" }',
        src("""
        source s {
          a  int
          test a unique
          test a, b not null
          test a in [1, -2.5e3, "x", null, true, false, 2020-01-01, 2020-01-01T10:00:00Z, some_name]
          test a between 0 and 10
          test a, b references t(c, d)
          test "a > 0"
        }
        """),
    ),
    "dimension": (
        "dimension customer from crm.customers { key customer_id scd0 a scd1 b scd2 c, d scd3 e as prev_e,f "
        "deletes soft deletes cdc when \"op = 'D'\" changed_by updated_at duplicates latest late 3 "
        'valid_from vf valid_to vt is_current cur open_end 9999-12-31 scd1_scope all record_source "crm" '
        'load full derive upper_name string = "upper(name)" derive n = "1" where "x > 0" test key unique }',
        src("""
        dimension customer from crm.customers {
          key customer_id
          scd0 a
          scd1 b
          scd2 c, d
          scd3 e as prev_e, f
          deletes soft
          deletes cdc when "op = 'D'"
          changed_by updated_at
          duplicates latest
          late 3
          valid_from vf
          valid_to vt
          is_current cur
          open_end 9999-12-31
          scd1_scope all
          record_source "crm"
          load full
          derive upper_name string = "upper(name)"
          derive n = "1"
          where "x > 0"
          test key unique
        }
        """),
    ),
    "calendar": (
        "dimension   date\n  calendar 2020-01-01..2030-12-31",
        "dimension date calendar 2020-01-01 .. 2030-12-31\n",
    ),
    "fact": (
        "fact orders from crm.orders { grain order_id, line customer -> customer ship -> address(ship_id) "
        "bill->address(a,b)at billed_at measure amount sum measure qty degenerate order_no, x "
        'incremental on updated_at derive y int = "1" where "true" test order_id unique late 2 }',
        src("""
        fact orders from crm.orders {
          grain order_id, line
          customer -> customer
          ship -> address(ship_id)
          bill -> address(a, b) at billed_at
          measure amount sum
          measure qty
          degenerate order_no, x
          incremental on updated_at
          derive y int = "1"
          where "true"
          test order_id unique
          late 2
        }
        """),
    ),
    "physical options": (
        "fact f from s { partition by day partition by month ( created ) cluster by a,b order by c sortkey d, e "
        "distkey k diststyle even engine MergeTree }",
        src("""
        fact f from s {
          partition by day
          partition by month(created)
          cluster by a, b
          order by c
          sortkey d, e
          distkey k
          diststyle even
          engine MergeTree
        }
        """),
    ),
    "hub": (
        "hub customer from crm.customers(customer_id), erp.clients ( client_no ), web.users"
        ' { key customer_id test customer_id unique record_source "x" cluster by customer_id }',
        src("""
        hub customer from crm.customers(customer_id), erp.clients(client_no), web.users {
          key customer_id
          test customer_id unique
          record_source "x"
          cluster by customer_id
        }
        """),
    ),
    "link": (
        "link order_customer from crm.orders { hubs customer(customer_id) as buyer, order(order_id, line) "
        "child line_no transactional payload amount, qty sortkey a test a unique load full }",
        src("""
        link order_customer from crm.orders {
          hubs customer(customer_id) as buyer, order(order_id, line)
          child line_no
          transactional
          payload amount, qty
          sortkey a
          test a unique
          load full
        }
        """),
    ),
    "satellite": (
        "satellite customer_details of customer ( customer_id ) from crm.customers(customer_id, name), x.y "
        "{ payload name, email multi_active phone_type effectivity driving customer tracking distkey k "
        "test name not null changed_by ts }\nsatellite s of h from a { payload p }",
        src("""
        satellite customer_details of customer(customer_id) from crm.customers(customer_id, name), x.y {
          payload name, email
          multi_active phone_type
          effectivity driving customer
          tracking
          distkey k
          test name not null
          changed_by ts
        }

        satellite s of h from a {
          payload p
        }
        """),
    ),
    "pit": (
        "pit customer_pit of customer { satellites a, b spine day from 2020-01-01 to 2030-12-31 spine week "
        "spine month from 2021-01-01 spine year to 2022-01-01 engine x test a unique load full }",
        src("""
        pit customer_pit of customer {
          satellites a, b
          spine day from 2020-01-01 to 2030-12-31
          spine week
          spine month from 2021-01-01
          spine year to 2022-01-01
          engine x
          test a unique
          load full
        }
        """),
    ),
    "bridge": (
        "bridge b of customer { links l1, l2 spine day order by x test y unique load full }",
        "bridge b of customer {\n  links l1, l2\n  spine day\n  order by x\n  test y unique\n  load full\n}\n",
    ),
    "keywords as names": (
        "source s { key int date date `test` int }\nfact f from s { measure measure sum }",
        "source s {\n  key     int\n  date    date\n  `test`  int\n}\n\nfact f from s {\n  measure measure sum\n}\n",
    ),
}


@pytest.mark.parametrize("name", CASES)
def test_construct(name: str) -> None:
    text, expected = CASES[name]
    assert fmt(text) == expected
    assert fmt(expected) == expected


def test_full_file_layout() -> None:
    text = src("""
    model shop
    import "common.dm"
    source crm.orders { id int }
    dimension date calendar 2020-01-01 .. 2020-12-31
    fact orders from crm.orders { grain id }
    """)
    assert fmt(text) == src("""
    model shop

    import "common.dm"

    source crm.orders {
      id  int
    }

    dimension date calendar 2020-01-01 .. 2020-12-31

    fact orders from crm.orders {
      grain id
    }
    """)


# ---- names, strings, whitespace ------------------------------------------------------------------


def test_quoting() -> None:
    text = "source `crm`.`my table` { `id` int `first name` string `a``b` int ` ` int `ünïcödé` int ünï int }"
    assert fmt(text) == src("""
    source `crm`.`my table` {
      `id`          int
      `first name`  string
      `a``b`        int
      ` `           int
      `ünïcödé`     int
      ünï           int
    }
    """)


def test_names_built_in_code_are_quoted_when_needed() -> None:
    module = ast.Module(None, (), (ast.Pit(ast.Name("1st pit"), ast.Name("h`b"), (ast.Links((ast.Name("x"),)),)),))
    assert format_module(module, "") == "pit `1st pit` of `h``b` {\n  links x\n}\n"


def test_name_values_that_read_as_literals_stay_names() -> None:
    # fmt() checks that `true`/`false` keep their kind, whichever way the lexer reads them bare
    text = "dimension d from s { late `null` duplicates `true` changed_by false valid_to `x y` load `ok` }"
    out = fmt(text)
    assert "late `null`\n" in out and "valid_to `x y`\n  load ok\n" in out


def test_wide_names_align() -> None:
    assert fmt("source s { 名前 string id int }") == "source s {\n  名前  string\n  id    int\n}\n"


def test_string_escapes() -> None:
    text = 'source s from "a\\"b\\\\c\\nd\\te\\q" { test "x = \'\t\'" }'
    # an unknown escape is a backslash and the character: the backslash is then written escaped
    assert fmt(text) == 'source s from "a\\"b\\\\c\\nd\\te\\\\q" {\n  test "x = \'\\t\'"\n}\n'


def test_tabs_and_crlf_are_replaced() -> None:
    text = "source s {\r\n\tid\tint\t# key\r\n\t\tname string\r\n}\r\n"
    assert fmt(text) == "source s {\n  id    int  # key\n  name  string\n}\n"


def test_format_text_refuses_syntax_errors() -> None:
    with pytest.raises(ValueError, match="syntax errors"):
        format_text(parse("source s { id }"))


def test_docs_of_a_tree_built_in_code() -> None:
    col = ast.Column(ast.Name("id"), ast.TypeRef(ast.Name("int")), doc="The key.\n\n  indented")
    module = ast.Module(ast.Header(ast.Name("m"), doc="Model."), (), (ast.Source(ast.QName((ast.Name("s"),)), None,
                                                                                (col,), doc="A source."),))  # fmt: skip
    out = format_module(module, "")
    assert out == "## Model.\nmodel m\n\n## A source.\nsource s {\n  ## The key.\n  ##\n  ##   indented\n  id  int\n}\n"
    assert parse(out).module == module


# ---- comments ------------------------------------------------------------------------------------


def test_comments_everywhere() -> None:
    text = src("""
    # file header comment

    ## The shop.
    model shop {  # settings
        # above a setting
      dialect duckdb # trailing
      # end of settings
    }
    # about imports
    import "a.dm" # why
    ## Customers.
    ## Two lines.
    source crm.customers {  # opening
      ## The key.
      id int not null    # trailing
      # a comment


      # after a blank line
      name string
      # end of body
    } # closing
    # between entities



    dimension date calendar 2020-01-01 .. 2020-12-31  # calendar
    source empty { # only a trailing one
    }
    source empty2 {
        # only inside
    }
    # end of file
    """)
    assert fmt(text) == src("""
    # file header comment

    ## The shop.
    model shop {  # settings
      # above a setting
      dialect duckdb  # trailing
      # end of settings
    }

    # about imports
    import "a.dm"  # why

    ## Customers.
    ## Two lines.
    source crm.customers {  # opening
      ## The key.
      id    int     not null  # trailing
      # a comment

      # after a blank line
      name  string
      # end of body
    }  # closing

    # between entities

    dimension date calendar 2020-01-01 .. 2020-12-31  # calendar

    source empty {  # only a trailing one
    }

    source empty2 {
      # only inside
    }
    # end of file
    """)


def test_docs_survive() -> None:
    text = src("""
    ## Orders.
    fact f from s {
      ## Sum of it.
      measure m sum
      ## Who.
      r -> d

      ## not a doc

      grain g
    }
    """)
    out = fmt(text)
    fact = parse(out).module.entities[0]
    assert fact.doc == "Orders." and [getattr(i, "doc", None) for i in fact.items] == ["Sum of it.", "Who.", None]
    assert "## not a doc\n\n  grain g" in out


def test_blank_lines_at_body_edges_are_dropped() -> None:
    assert fmt("source s {\n\n\n  # c\n\n  a int\n\n\n}\n\n\n") == "source s {\n  # c\n\n  a  int\n}\n"


def test_comments_between_tokens_of_one_line() -> None:
    text = src("""
    fact f  # one
      from s  # two
    {
      grain a,  # three
        b  ## four
      measure m
    }
    """)
    out = fmt(text)
    assert out == src("""
    fact f from s {  # one
      # two
      grain a, b  # three
      ## four

      measure m
    }
    """)
    # `## four` was not a doc comment and must not become the doc of `measure m`
    assert parse(out).module.entities[0].items[1].doc is None


def test_comments_between_tokens_of_top_level_lines() -> None:
    text = 'import  # a\n  "x.dm"  # b\ndimension d calendar  # c\n 2020-01-01 .. 2020-12-31 ## d\nsource s {}'
    assert fmt(text) == src("""
    import "x.dm"  # a

    # b

    dimension d calendar 2020-01-01 .. 2020-12-31  # c

    ## d

    source s {}
    """)


def test_hash_inside_strings_and_names_is_not_a_comment() -> None:
    text = 'source `a#b` from "x # y" { `#` int test "# z" }'
    assert fmt(text) == 'source `a#b` from "x # y" {\n  `#`  int\n  test "# z"\n}\n'


def test_only_comments() -> None:
    assert fmt("\n\n# one\n\n\n# two\n") == "# one\n\n# two\n"


def test_doc_of_a_one_line_entity() -> None:
    fmt("## Doc.\nsource s { a int }")


def test_large_file_formats_in_linear_time() -> None:
    # 24,000 lines and 8,000 comments: about 0.1 s; rescanning the comments for each line would take many seconds.
    result = parse("".join(f"# c{i}\nsource s{i} {{ a int # x\n b int }}\n" for i in range(4000)))
    start = time.perf_counter()
    out = format_text(result)
    assert time.perf_counter() - start < 3
    assert out.count("\n") == 4000 * 6 - 1


# ---- command line --------------------------------------------------------------------------------

MESSY = "source s {\n\tid int # key\n}\n"
TIDY = "source s {\n  id  int  # key\n}\n"


def test_cli_rewrites(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    messy, tidy = tmp_path / "messy.dm", tmp_path / "tidy.dm"
    messy.write_text(MESSY)
    tidy.write_text(TIDY)
    assert main(["fmt", str(messy), str(tidy)]) == 0
    assert messy.read_text() == TIDY and tidy.read_text() == TIDY
    assert capsys.readouterr().out == f"reformatted {messy}\n"


def test_cli_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    messy, tidy = tmp_path / "messy.dm", tmp_path / "tidy.dm"
    messy.write_text(MESSY)
    tidy.write_text(TIDY)
    assert main(["fmt", "--check", str(messy), str(tidy)]) == 1
    assert capsys.readouterr().out == f"would reformat {messy}\n"
    assert messy.read_text() == MESSY
    assert main(["fmt", "--check", str(tidy)]) == 0
    assert capsys.readouterr().out == ""


def test_cli_leaves_files_with_errors_alone(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.dm"
    bad.write_text("source  s {\n  id\n}\n")
    for args in (["fmt", str(bad)], ["fmt", "--check", str(bad)]):
        assert main(args) == 1
        assert bad.read_text() == "source  s {\n  id\n}\n"
        captured = capsys.readouterr()
        assert captured.out == "" and "error" in captured.err


# ---- examples ------------------------------------------------------------------------------------

EXAMPLES = sorted((ROOT / "examples").glob("**/*.dm"))


@pytest.mark.parametrize("path", EXAMPLES or [None], ids=lambda p: str(p.relative_to(ROOT)) if p else "none")
def test_examples_are_formatted(path: Path | None) -> None:
    if path is None:
        pytest.skip("no examples/**/*.dm files yet")
    result = parse(path.read_bytes(), str(path))
    assert result.ok, result.diagnostics
    assert format_text(result) == result.text, f"run `modelc fmt {path.relative_to(ROOT)}`"


# ---- random models -------------------------------------------------------------------------------
# Hypothesis builds trees from every construct of the grammar; `Messy` writes them as valid but untidy
# text (random spacing, line breaks, blank lines, comments, doc comments). The parse of that text must
# give the tree back; then the formatter's promises are checked on it.

IDENT = re.compile(r"(?!\d)\w+")
KEYWORDS = frozenset(
    t.pattern.value for t in lark_parser().terminals if t.pattern.type == "str" and IDENT.fullmatch(t.pattern.value)
) | {"true", "false"}
OPTION_KEYS = ("changed_by", "duplicates", "late", "valid_from", "valid_to", "is_current", "open_end",
               "scd1_scope", "record_source", "load")  # fmt: skip
PLAIN_TYPES = ("int", "bigint", "smallint", "float", "double", "bool", "string", "date", "time", "timestamp",
               "timestamptz", "json", "binary")  # fmt: skip
PUNCT = frozenset(",()[]{}.=") | {"->", ".."}
CONTINUE = frozenset(",([=") | {"->"}  # an item cannot end right after these


def _name(value: str, quoted: bool) -> ast.Name:
    return ast.Name(value, quoted or not IDENT.fullmatch(value) or value in KEYWORDS)


any_text = st.characters(exclude_categories=["Cs"])
name_values = st.one_of(
    st.from_regex(r"[a-z_][a-z0-9_]{0,7}", fullmatch=True),
    st.sampled_from(sorted(KEYWORDS)),
    st.text(st.characters(categories=["L", "N"]), min_size=1, max_size=5),
    st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\n"), max_size=6),  # spaces, backquotes, ...
)
names = st.builds(_name, name_values, st.booleans())


def tuples(s: st.SearchStrategy[Any], lo: int = 1, hi: int = 3) -> st.SearchStrategy[tuple[Any, ...]]:
    return st.lists(s, min_size=lo, max_size=hi).map(tuple)


name_lists = tuples(names)
qnames = tuples(names).map(ast.QName)
strings = st.text(any_text, max_size=10)
strs = strings.map(ast.Str)
dates = st.dates(date(1900, 1, 1), date(2100, 12, 31)).map(lambda d: ast.Literal("date", d.isoformat()))
TIMESTAMP = r"20[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])[T ][01][0-9]:[0-5][0-9](:[0-5][0-9](\.[0-9]{1,3})?)?"
# The grammar's BOOL terminal loses to NAME in the lexer today, so `true` parses as a name: generate booleans
# only once the parser can read them back.
_probe = parse("model m { k true }").module.header
BOOL_PARSES = _probe is not None and _probe.settings[0].value.kind == "bool"
literals = st.one_of(
    name_values.map(lambda v: ast.Literal("name", v)),
    strings.map(lambda s: ast.Literal("string", s)),
    st.from_regex(r"-?[0-9]{1,6}", fullmatch=True).map(lambda t: ast.Literal("int", t)),
    st.from_regex(r"-?[0-9]{1,3}\.[0-9]{1,3}([eE][+-]?[0-9]{1,2})?", fullmatch=True).map(
        lambda t: ast.Literal("decimal", t)
    ),
    dates,
    st.from_regex(TIMESTAMP + r"(Z|[+-][01][0-9]:?[0-5][0-9])?", fullmatch=True).map(
        lambda t: ast.Literal("timestamp", t)
    ),
    st.just(ast.Literal("null", "null")),
    *[st.sampled_from(("true", "false")).map(lambda t: ast.Literal("bool", t))] * BOOL_PARSES,
)
types = st.one_of(
    st.builds(lambda t, q: ast.TypeRef(ast.Name(t, q)), st.sampled_from(PLAIN_TYPES), st.booleans()),
    st.integers(1, 38).flatmap(lambda p: st.integers(0, p).map(lambda s: ast.TypeRef(ast.Name("decimal"), (p, s)))),
    st.integers(1, 9999).map(lambda n: ast.TypeRef(ast.Name("string"), (n,))),
)
comment_texts = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\n"), max_size=8)
doc_lines = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\n"), max_size=8).map(str.rstrip)
docs = st.none() | st.lists(doc_lines, min_size=1, max_size=3).map("\n".join)
opt_names = st.none() | names

tests = st.one_of(
    st.builds(ast.TestUnique, name_lists),
    st.builds(ast.TestNotNull, name_lists),
    st.builds(ast.TestAccepted, names, tuples(literals)),
    st.builds(ast.TestRange, names, literals, literals),
    st.builds(ast.TestReferences, name_lists, names, name_lists),
    st.builds(ast.TestExpression, strs),
)
physical = st.one_of(
    st.builds(ast.PartitionBy, names, opt_names),
    st.builds(ast.ClusterBy, name_lists),
    st.builds(ast.OrderBy, name_lists),
    st.builds(ast.SortKey, name_lists),
    st.builds(ast.DistKey, names),
    st.builds(ast.DistStyle, names),
    st.builds(ast.Engine, names),
)
options = st.builds(ast.Option, st.sampled_from(OPTION_KEYS), literals)
keys = st.builds(ast.Key, name_lists)
derives = st.builds(ast.Derive, names, st.none() | types, strs, docs)
wheres = st.builds(ast.Where, strs)
payloads = st.builds(ast.Payload, name_lists)
spines = st.builds(ast.Spine, names, st.none() | dates, st.none() | dates)
common = (physical, tests, options)
AGGREGATIONS = ("sum", "count", "min", "max", "avg", "count_distinct", "none")

ITEMS: dict[str, st.SearchStrategy[ast.Node]] = {
    "source": st.one_of(st.builds(ast.Column, names, types, st.booleans(), st.booleans(), docs), tests),
    "dimension": st.one_of(
        keys,
        st.builds(ast.Scd, st.integers(0, 3), tuples(st.builds(ast.ScdColumn, names, opt_names))),
        st.builds(ast.Deletes, names, st.none() | strs),
        derives,
        wheres,
        *common,
    ),
    "fact": st.one_of(
        st.builds(ast.Grain, name_lists),
        st.builds(ast.Reference, names, names, st.just(()) | name_lists, opt_names, docs),
        st.builds(ast.Measure, names, st.none() | st.sampled_from(AGGREGATIONS).map(ast.Name), docs),
        st.builds(ast.Degenerate, name_lists),
        st.builds(ast.Incremental, names),
        derives,
        wheres,
        *common,
    ),
    "hub": st.one_of(keys, *common),
    "link": st.one_of(
        st.builds(ast.Hubs, tuples(st.builds(ast.HubRef, names, name_lists, opt_names))),
        st.builds(ast.Child, name_lists),
        st.just(ast.Transactional()),
        payloads,
        *common,
    ),
    "satellite": st.one_of(
        payloads,
        st.builds(ast.MultiActive, name_lists),
        st.builds(ast.Effectivity, names),
        st.just(ast.Tracking()),
        *common,
    ),
    "pit": st.one_of(st.builds(ast.Satellites, name_lists), spines, *common),
    "bridge": st.one_of(st.builds(ast.Links, name_lists), spines, *common),
}


def bodies(kind: str) -> st.SearchStrategy[tuple[ast.Node, ...]]:
    return st.lists(ITEMS[kind], max_size=5).map(tuple)


source_refs = tuples(st.builds(ast.SourceRef, qnames, st.just(()) | name_lists))
entities = st.one_of(
    st.builds(ast.Source, qnames, st.none() | strs, bodies("source"), docs),
    st.builds(ast.Dimension, names, qnames, bodies("dimension"), docs),
    st.builds(ast.Calendar, names, dates, dates, docs),
    st.builds(ast.Fact, names, qnames, bodies("fact"), docs),
    st.builds(ast.Hub, names, source_refs, bodies("hub"), docs),
    st.builds(ast.Link, names, source_refs, bodies("link"), docs),
    st.builds(ast.Satellite, names, names, st.just(()) | name_lists, source_refs, bodies("satellite"), docs),
    st.builds(ast.Pit, names, names, bodies("pit"), docs),
    st.builds(ast.Bridge, names, names, bodies("bridge"), docs),
)
headers = st.builds(ast.Header, names, tuples(st.builds(ast.Setting, names, literals), 0, 3), docs)
modules = st.builds(ast.Module, st.none() | headers, tuples(strs.map(ast.Import), 0, 2), tuples(entities, 0, 4))


def quote(n: ast.Name) -> str:
    return "`" + n.value.replace("`", "``") + "`" if n.quoted else n.value


class Messy:
    """Writes a tree as valid but untidy text, drawing every layout choice from hypothesis.

    Inside an item, a line may break only after punctuation that cannot end it, once, and the item then
    ends its line: the parser reads other breaks inside an item as a sign of a missing token."""

    def __init__(self, draw: Callable[[st.SearchStrategy[Any]], Any]):
        self.draw = draw
        self.out: list[str] = []
        self.prev = ""  # the last token
        self.line_start = True  # nothing but blanks on the current line yet
        self.under_doc = False  # the current line is right below a `##` block: it documents what starts here
        self.glue = False  # the next token goes right here (it is the one the `##` block above documents)
        self.in_item = self.broken = False  # inside a body item; a line break was put in it

    def newline(self) -> None:
        self.out.append("\n")
        self.line_start, self.under_doc = True, False

    def gap(self, before: str) -> None:
        """Blanks and comments between two tokens."""
        kinds = ["space", "space", "space", "tab"]
        if not self.in_item or (self.prev in CONTINUE and not self.broken):
            kinds += ["newline", "blank", "trailing", "own line"]
        if self.prev in PUNCT or before in PUNCT:
            kinds.append("none")
        kind = self.draw(st.sampled_from(kinds))
        comment = "#" + self.draw(comment_texts) if kind in ("trailing", "own line") else ""
        if kind == "space":
            self.out.append(" ")
        elif kind == "tab":
            self.out.append("\t")
        elif kind in ("newline", "blank"):
            self.newline()
            if kind == "blank":
                self.newline()
        elif kind == "trailing" and not self.line_start:
            self.out.append(" " + comment)
            self.newline()
        elif kind != "none":  # a comment on its own line; a `##` one gets a blank line so that it documents nothing
            if not self.line_start:
                self.newline()
            self.out.append(comment)
            self.newline()
            if comment.startswith("##"):
                self.newline()
        if self.line_start:
            self.broken |= self.in_item
            self.out.append(self.draw(st.sampled_from(("", "  ", "    ", "\t"))))

    def tok(self, s: str) -> None:
        if self.out and not self.glue:
            self.gap(s)
        self.out.append(s)
        self.prev, self.line_start, self.glue = s, False, False

    def docable(self, doc: str | None) -> None:
        """Before the first token of a construct that takes a doc comment."""
        if self.under_doc:  # a second construct starting on a documented line would get the same doc
            self.newline()
        if doc is None:
            return
        if not self.line_start:
            self.newline()
        for line in doc.split("\n"):
            self.out.append(f"## {line}")
            self.newline()
        self.out.append(self.draw(st.sampled_from(("", "  "))))
        self.under_doc = self.glue = True

    def begin_item(self) -> None:
        self.in_item, self.broken = True, False

    def end_item(self) -> None:
        if self.broken:
            self.newline()
        self.in_item = False

    def text(self) -> str:
        return "".join(self.out) + self.draw(st.sampled_from(("", "\n", "\n\n", "  ")))

    # ---- tokens of the tree
    def name(self, n: ast.Name) -> None:
        self.tok(quote(n))

    def names(self, ns: tuple[ast.Name, ...]) -> None:
        for i, n in enumerate(ns):
            if i:
                self.tok(",")
            self.name(n)

    def paren_names(self, ns: tuple[ast.Name, ...]) -> None:
        self.tok("(")
        self.names(ns)
        self.tok(")")

    def qname(self, q: ast.QName) -> None:
        for i, p in enumerate(q.parts):
            if i:
                self.tok(".")
            self.name(p)

    def string(self, s: str) -> None:
        raw_tab = self.draw(st.booleans())  # a tab may be written as is
        escaped = s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        self.tok('"' + (escaped if raw_tab else escaped.replace("\t", "\\t")) + '"')

    def value(self, v: ast.Literal) -> None:
        if v.kind == "name":
            self.name(_name(v.text, v.text in ("null", "true", "false")))
        elif v.kind == "string":
            self.string(v.text)
        else:
            self.tok(v.text)

    def type(self, t: ast.TypeRef) -> None:
        self.name(t.name)
        if t.params:
            self.tok("(")
            for i, p in enumerate(t.params):
                if i:
                    self.tok(",")
                self.tok(str(p))
            self.tok(")")

    def source_refs(self, refs: tuple[ast.SourceRef, ...]) -> None:
        for i, r in enumerate(refs):
            if i:
                self.tok(",")
            self.qname(r.source)
            if r.columns:
                self.paren_names(r.columns)

    def words(self, *parts: str | ast.Name | tuple[ast.Name, ...] | ast.Str | ast.Literal | None) -> None:
        for p in parts:
            if isinstance(p, str):
                self.tok(p)
            elif isinstance(p, ast.Name):
                self.name(p)
            elif isinstance(p, tuple):
                self.names(p)
            elif isinstance(p, ast.Str):
                self.string(p.value)
            elif isinstance(p, ast.Literal):
                self.value(p)

    def module(self, m: ast.Module) -> str:
        if m.header is not None:
            self.docable(m.header.doc)
            self.words("model", m.header.name)
            if m.header.settings or self.draw(st.booleans()):
                self.tok("{")
                for s in m.header.settings:
                    self.begin_item()
                    self.words(s.key, s.value)
                    self.end_item()
                self.tok("}")
        for imp in m.imports:
            self.words("import", imp.path)
        for e in m.entities:
            self.entity(e)
        return self.text()

    def entity(self, e: ast.Node) -> None:
        self.docable(e.doc)  # type: ignore[attr-defined]
        match e:
            case ast.Calendar():
                self.words("dimension", e.name, "calendar", e.start, "..", e.end)
                return
            case ast.Source():
                self.words("source")
                self.qname(e.name)
                if e.location is not None:
                    self.words("from", e.location)
            case ast.Dimension() | ast.Fact():
                self.words(e.kind, e.name, "from")
                self.qname(e.source)
            case ast.Hub() | ast.Link():
                self.words(e.kind, e.name, "from")
                self.source_refs(e.sources)
            case ast.Satellite():
                self.words("satellite", e.name, "of", e.parent)
                if e.parent_columns:
                    self.paren_names(e.parent_columns)
                self.tok("from")
                self.source_refs(e.sources)
            case ast.Pit() | ast.Bridge():
                self.words(e.kind, e.name, "of", e.hub)
        self.tok("{")
        for it in e.items:  # type: ignore[attr-defined]
            self.item(it)
        self.tok("}")

    def item(self, it: ast.Node) -> None:
        if hasattr(it, "doc"):
            self.docable(it.doc)
        self.begin_item()
        self.item_tokens(it)
        self.end_item()

    def item_tokens(self, it: ast.Node) -> None:
        match it:
            case ast.Column():
                self.name(it.name)
                self.type(it.type)
                flags = [f for f, on in (("not null", it.not_null), ("pii", it.pii)) if on]
                for f in self.draw(st.permutations(flags)):
                    self.words(*f.split())
            case ast.Key():
                self.words("key", it.columns)
            case ast.Scd():
                self.tok(f"scd{it.kind}")
                for i, c in enumerate(it.columns):
                    self.words("," if i else None, c.name, *(("as", c.alias) if c.alias else ()))
            case ast.Deletes():
                self.words("deletes", it.mode, *(("when", it.where) if it.where else ()))
            case ast.Option():
                self.words(it.key, it.value)
            case ast.Derive():
                self.words("derive", it.name)
                if it.type is not None:
                    self.type(it.type)
                self.words("=", it.sql)
            case ast.Where():
                self.words("where", it.sql)
            case ast.Grain():
                self.words("grain", it.columns)
            case ast.Reference():
                self.words(it.role, "->", it.dimension)
                if it.columns:
                    self.paren_names(it.columns)
                self.words(*(("at", it.at) if it.at else ()))
            case ast.Measure():
                self.words("measure", it.name, it.aggregation)
            case ast.Degenerate():
                self.words("degenerate", it.columns)
            case ast.Incremental():
                self.words("incremental", "on", it.column)
            case ast.PartitionBy():
                self.words("partition", "by")
                if it.transform is not None:
                    self.words(it.transform, "(", it.column, ")")
                else:
                    self.name(it.column)
            case ast.ClusterBy():
                self.words("cluster", "by", it.columns)
            case ast.OrderBy():
                self.words("order", "by", it.columns)
            case ast.SortKey():
                self.words("sortkey", it.columns)
            case ast.DistKey():
                self.words("distkey", it.column)
            case ast.DistStyle():
                self.words("diststyle", it.style)
            case ast.Engine():
                self.words("engine", it.engine)
            case ast.Hubs():
                self.tok("hubs")
                for i, h in enumerate(it.hubs):
                    self.words("," if i else None, h.hub)
                    self.paren_names(h.columns)
                    self.words(*(("as", h.role) if h.role else ()))
            case ast.Child():
                self.words("child", it.columns)
            case ast.Transactional():
                self.tok("transactional")
            case ast.Payload():
                self.words("payload", it.columns)
            case ast.MultiActive():
                self.words("multi_active", it.columns)
            case ast.Effectivity():
                self.words("effectivity", "driving", it.driving)
            case ast.Tracking():
                self.tok("tracking")
            case ast.Satellites():
                self.words("satellites", it.names)
            case ast.Links():
                self.words("links", it.names)
            case ast.Spine():
                self.words("spine", it.every, *(("from", it.start) if it.start else ()))
                self.words(*(("to", it.end) if it.end else ()))
            case ast.TestUnique():
                self.words("test", it.columns, "unique")
            case ast.TestNotNull():
                self.words("test", it.columns, "not", "null")
            case ast.TestAccepted():
                self.words("test", it.column, "in", "[")
                for i, v in enumerate(it.values):
                    self.words("," if i else None, v)
                self.tok("]")
            case ast.TestRange():
                self.words("test", it.column, "between", it.low, "and", it.high)
            case ast.TestReferences():
                self.words("test", it.columns, "references", it.entity)
                self.paren_names(it.target_columns)
            case ast.TestExpression():
                self.words("test", it.sql)
            case _:
                raise TypeError(it)


PROFILE = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROFILE
@given(modules, st.data())
def test_random_models(module: ast.Module, data: st.DataObject) -> None:
    text = Messy(data.draw).module(module)
    result = parse(text)
    assert result.ok, (text, result.diagnostics)
    assert result.module == module, text  # the generator writes what it means
    fmt(text)


@PROFILE
@given(modules)
def test_random_trees_built_in_code(module: ast.Module) -> None:
    out = format_module(module, "")
    result = parse(out)
    assert result.ok, (out, result.diagnostics)
    assert result.module == module, out
    assert format_text(result) == out
