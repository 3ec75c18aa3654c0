"""`modelc lsp` over real JSON-RPC: the server runs as a subprocess, driven by pytest-lsp's client."""

from __future__ import annotations

import asyncio
import json
import random
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
import pytest_asyncio
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from modelc.fmt import format_text
from modelc.parser import parse

ROOT = Path(__file__).resolve().parent.parent

SOURCES = """\
model shop

## The customers, from the CRM.
source crm.customers {
  ## The CRM's id.
  customer_id  int        not null
  `na😀me`     string
  segment      string
  updated_at   timestamp  not null
}
"""

MAIN = """\
model shop
import "sources.dm"

## One row per customer.
dimension customer from crm.customers {
  key customer_id
  scd2 segment
  changed_by updated_at
}
"""


# One server for the module (start-up costs about a second); each test uses its own files and closes them.
pytestmark = pytest.mark.asyncio(loop_scope="module")
_opened: list[str] = []


@pytest_lsp.fixture(scope="module", config=ClientServerConfig(server_command=[sys.executable, "-m", "modelc", "lsp"]))
async def client(lsp_client: LanguageClient):
    await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=types.ClientCapabilities(),
            initialization_options={"modelc": {"dialect": "postgres"}},
        )
    )
    yield
    await lsp_client.shutdown_session()


@pytest_asyncio.fixture(loop_scope="module", autouse=True)
async def close_documents(request: pytest.FixtureRequest):
    yield
    if _opened:
        client = request.getfixturevalue("client")
        while _opened:
            client.text_document_did_close(types.DidCloseTextDocumentParams(doc_id(_opened.pop())))
        await asyncio.sleep(0.05)


@pytest.fixture
def model(tmp_path: Path) -> tuple[str, str]:
    """Two files, the second importing the first: (uri of sources.dm, uri of main.dm)."""
    (tmp_path / "sources.dm").write_text(SOURCES, encoding="utf-8")
    (tmp_path / "main.dm").write_text(MAIN, encoding="utf-8")
    return (tmp_path / "sources.dm").as_uri(), (tmp_path / "main.dm").as_uri()


# ---- helpers ---------------------------------------------------------------------------------------


def open_doc(client: LanguageClient, uri: str, text: str, version: int = 1) -> None:
    _opened.append(uri)
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(types.TextDocumentItem(uri=uri, language_id="dm", version=version, text=text))
    )


def change(client: LanguageClient, uri: str, text: str, version: int) -> None:
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            [types.TextDocumentContentChangeWholeDocument(text=text)],
        )
    )


async def diagnostics(
    client: LanguageClient, uri: str, ok: Callable[[Sequence[types.Diagnostic]], bool] = lambda d: True
) -> Sequence[types.Diagnostic]:
    """The diagnostics of `uri` once published ones satisfy `ok` (5 s at most)."""
    for _ in range(500):
        found = client.diagnostics.get(uri)
        if found is not None and ok(list(found)):
            return list(found)
        await asyncio.sleep(0.01)
    raise AssertionError(f"no matching diagnostics for {uri}: {client.diagnostics.get(uri)}")


def codes(diags: Sequence[types.Diagnostic]) -> list[str]:
    return sorted(str(d.code) for d in diags)


def pos(text: str, needle: str, delta: int = 0) -> types.Position:
    """The position of the first `needle` in `text` (plus `delta` characters), in UTF-16 units."""
    offset = text.index(needle) + delta
    line = text.count("\n", 0, offset)
    col_text = text[text.rfind("\n", 0, offset) + 1 : offset]
    return types.Position(line, len(col_text.encode("utf-16-le")) // 2)


def doc_id(uri: str) -> types.TextDocumentIdentifier:
    return types.TextDocumentIdentifier(uri=uri)


def apply_edits(text: str, edits: Sequence[types.TextEdit]) -> str:
    """Apply non-overlapping edits (UTF-16 positions) to `text`."""
    lines = text.split("\n")

    def offset(p: types.Position) -> int:
        if p.line >= len(lines):
            return len(text)
        units, line = 0, lines[p.line]
        for i, ch in enumerate(line):
            if units >= p.character:
                return sum(len(x) + 1 for x in lines[: p.line]) + i
            units += len(ch.encode("utf-16-le")) // 2
        return sum(len(x) + 1 for x in lines[: p.line]) + len(line)

    spans = sorted(((offset(e.range.start), offset(e.range.end), e.new_text) for e in edits), reverse=True)
    for start, end, new in spans:
        text = text[:start] + new + text[end:]
    return text


# ---- diagnostics -----------------------------------------------------------------------------------


async def test_diagnostics_on_open_clean_and_broken(client: LanguageClient, model):
    sources, main = model
    open_doc(client, main, MAIN)
    assert await diagnostics(client, main) == []
    open_doc(client, sources, SOURCES.replace("segment      string", "segment      strin"))
    found = await diagnostics(client, sources, lambda d: len(d) > 0)
    assert codes(found) == ["E110", "W203"]  # W203: opened alone, nothing uses the source
    e110 = next(d for d in found if d.code == "E110")
    assert e110.severity == types.DiagnosticSeverity.Error and e110.source == "modelc"
    assert "did you mean `string`" in e110.message
    assert e110.range.start == pos(SOURCES, "string\n  updated")


async def test_edit_breaks_then_fixes_a_file(client: LanguageClient, model):
    _, main = model
    open_doc(client, main, MAIN)
    await diagnostics(client, main, lambda d: d == [])
    change(client, main, MAIN.replace("scd2 segment", "scd2 segment }}"), 2)
    broken = await diagnostics(client, main, lambda d: len(d) > 0)
    assert all(d.severity == types.DiagnosticSeverity.Error for d in broken if str(d.code).startswith("E1"))
    change(client, main, MAIN, 3)
    assert await diagnostics(client, main, lambda d: d == []) == []


async def test_columns_are_utf16(client: LanguageClient, model):
    sources, _ = model
    text = SOURCES.replace("`na😀me`     string", "`na😀me` strin")
    open_doc(client, sources, text)
    (d,) = [d for d in await diagnostics(client, sources, lambda d: len(d) > 0) if d.code == "E110"]
    # `  \`na😀me\` ` is 10 characters but 11 UTF-16 units: the emoji counts twice.
    assert (d.range.start.line, d.range.start.character, d.range.end.character) == (6, 11, 16)


async def test_importing_file_sees_unsaved_change_of_import(client: LanguageClient, model):
    sources, main = model
    open_doc(client, main, MAIN)
    open_doc(client, sources, SOURCES)
    await diagnostics(client, main, lambda d: d == [])
    change(client, sources, SOURCES.replace("crm.customers", "crm.clients"), 2)  # not saved
    found = await diagnostics(client, main, lambda d: len(d) > 0)
    assert "E203" in codes(found) and any("crm.clients" in d.message for d in found)
    change(client, sources, SOURCES, 3)
    await diagnostics(client, main, lambda d: d == [])


async def test_closing_an_import_falls_back_to_its_saved_text(client: LanguageClient, model):
    sources, main = model
    open_doc(client, main, MAIN)
    open_doc(client, sources, SOURCES.replace("crm.customers", "crm.clients"))  # unsaved: main breaks
    await diagnostics(client, main, lambda d: "E203" in codes(d))
    _opened.remove(sources)
    client.text_document_did_close(types.DidCloseTextDocumentParams(doc_id(sources)))
    await diagnostics(client, main, lambda d: d == [])  # the file on disk is fine


async def test_closed_imported_file_gets_diagnostics_of_its_importer(client: LanguageClient, model, tmp_path: Path):
    sources, main = model
    (tmp_path / "sources.dm").write_text(SOURCES.replace("segment      string", "segment      strin"), "utf-8")
    open_doc(client, main, MAIN)
    found = await diagnostics(client, sources, lambda d: len(d) > 0)  # sources.dm is not open
    assert codes(found) == ["E110"] and found[0].range.start == pos(SOURCES, "string\n  updated")
    _opened.remove(main)
    client.text_document_did_close(types.DidCloseTextDocumentParams(doc_id(main)))
    await diagnostics(client, sources, lambda d: d == [])  # withdrawn with the file that reported them


async def test_untitled_document_gets_diagnostics(client: LanguageClient):
    uri = "untitled:Untitled-1"
    open_doc(client, uri, "model m\nsource a.b {\n  x strin\n}\n")
    found = await diagnostics(client, uri, lambda d: len(d) > 0)
    assert "E110" in codes(found)


async def test_changes_are_debounced(client: LanguageClient, model):
    _, main = model
    open_doc(client, main, MAIN)
    await diagnostics(client, main, lambda d: d == [])
    published: list[int] = []
    original = client.protocol.fm.features[types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS]

    def counting(params: types.PublishDiagnosticsParams) -> None:
        published.append(len(params.diagnostics))
        original(params)

    client.protocol.fm.features[types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS] = counting
    try:
        for i in range(10):  # typing: each keystroke breaks the file differently
            change(client, main, MAIN.replace("scd2 segment", "scd2 segment" + "}" * (i + 1)), i + 2)
        change(client, main, MAIN, 20)
        for _ in range(500):  # until the final, clean text is published
            if published[-1:] == [0]:
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.3)  # anything still coming would be a late, undebounced analysis
    finally:
        client.protocol.fm.features[types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS] = original
    assert published[-1:] == [0] and len(published) <= 3


# ---- formatting -------------------------------------------------------------------------------------


async def test_formatting_whole_document(client: LanguageClient, model):
    _, main = model
    messy = (
        'model shop\nimport "sources.dm"\ndimension customer from crm.customers { key customer_id\n scd2 segment }\n'
    )
    open_doc(client, main, messy)
    edits = await client.text_document_formatting_async(
        types.DocumentFormattingParams(doc_id(main), types.FormattingOptions(tab_size=2, insert_spaces=True))
    )
    assert edits and apply_edits(messy, edits) == format_text(parse(messy))
    change(client, main, messy + "}}", 2)
    edits = await client.text_document_formatting_async(
        types.DocumentFormattingParams(doc_id(main), types.FormattingOptions(tab_size=2, insert_spaces=True))
    )
    assert not edits  # a file with syntax errors is left alone


# ---- hover, navigation ------------------------------------------------------------------------------


async def test_hover_entity_shows_doc_and_ddl_of_configured_dialect(client: LanguageClient, model):
    _, main = model
    open_doc(client, main, MAIN)
    await diagnostics(client, main)
    hover = await client.text_document_hover_async(types.HoverParams(doc_id(main), pos(MAIN, "customer from", 2)))
    text = hover.contents.value
    assert "**dimension** `customer`" in text and "One row per customer." in text
    assert "- `key customer_id`\n- `scd2 segment`\n- `changed_by updated_at`" in text
    assert "postgres" in text and "CREATE TABLE" in text.upper()
    assert hover.range == types.Range(pos(MAIN, "customer from"), pos(MAIN, " from crm"))


async def test_dialect_setting_changes_hover_ddl(client: LanguageClient, model):
    _, main = model
    open_doc(client, main, MAIN)
    await diagnostics(client, main)
    at = types.HoverParams(doc_id(main), pos(MAIN, "customer from"))
    client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings={"modelc": {"dialect": "snowflake"}})
    )
    try:
        assert "snowflake:" in (await client.text_document_hover_async(at)).contents.value
    finally:
        client.workspace_did_change_configuration(
            types.DidChangeConfigurationParams(settings={"modelc": {"dialect": "postgres"}})
        )
    assert "postgres:" in (await client.text_document_hover_async(at)).contents.value


async def test_hover_column_shows_type_and_doc(client: LanguageClient, model):
    _, main = model
    open_doc(client, main, MAIN)
    await diagnostics(client, main)
    hover = await client.text_document_hover_async(types.HoverParams(doc_id(main), pos(MAIN, "customer_id", 3)))
    text = hover.contents.value
    assert "`customer_id` `int` not null of `crm.customers`" in text and "The CRM's id." in text
    assert await client.text_document_hover_async(types.HoverParams(doc_id(main), types.Position(0, 1))) is None


async def test_definition_across_files(client: LanguageClient, model):
    sources, main = model
    open_doc(client, main, MAIN)
    await diagnostics(client, main)
    found = await client.text_document_definition_async(
        types.DefinitionParams(doc_id(main), pos(MAIN, "crm.customers", 5))
    )
    assert [(loc.uri, loc.range.start) for loc in found] == [(sources, pos(SOURCES, "crm.customers"))]
    found = await client.text_document_definition_async(types.DefinitionParams(doc_id(main), pos(MAIN, "updated_at")))
    assert [(loc.uri, loc.range.start) for loc in found] == [(sources, pos(SOURCES, "updated_at"))]


async def test_references_of_a_source_column(client: LanguageClient, model):
    sources, main = model
    open_doc(client, main, MAIN)
    await diagnostics(client, main)
    found = await client.text_document_references_async(
        types.ReferenceParams(
            context=types.ReferenceContext(include_declaration=True),
            text_document=doc_id(main),
            position=pos(MAIN, "segment"),
        )
    )
    assert sorted((loc.uri, loc.range.start.line) for loc in found) == [(main, 6), (sources, 7)]
    found = await client.text_document_references_async(
        types.ReferenceParams(
            context=types.ReferenceContext(include_declaration=False),
            text_document=doc_id(main),
            position=pos(MAIN, "segment"),
        )
    )
    assert [(loc.uri, loc.range.start.line) for loc in found] == [(main, 6)]


async def test_document_and_workspace_symbols(client: LanguageClient, model):
    sources, main = model
    open_doc(client, main, MAIN)
    open_doc(client, sources, SOURCES)
    await diagnostics(client, sources)
    symbols = await client.text_document_document_symbol_async(types.DocumentSymbolParams(doc_id(sources)))
    assert [(s.name, s.detail) for s in symbols] == [("crm.customers", "source")]
    assert [c.name for c in symbols[0].children] == ["customer_id", "na😀me", "segment", "updated_at"]
    found = await client.workspace_symbol_async(types.WorkspaceSymbolParams(query="cust"))
    assert sorted(s.name for s in found) == ["crm.customers", "customer"]


async def test_rename_entity_across_files(client: LanguageClient, model):
    sources, main = model
    open_doc(client, main, MAIN)
    await diagnostics(client, main)
    edit = await client.text_document_rename_async(
        types.RenameParams(doc_id(main), pos(MAIN, "crm.customers"), new_name="crm.clients")
    )
    assert sorted(edit.changes) == sorted([sources, main])
    assert "source crm.clients {" in apply_edits(SOURCES, edit.changes[sources])
    assert "from crm.clients {" in apply_edits(MAIN, edit.changes[main])
    bad = await client.text_document_rename_async(
        types.RenameParams(doc_id(main), pos(MAIN, "crm.customers"), new_name="not a name")
    )
    assert bad is None
    edit = await client.text_document_rename_async(  # a source column: its declaration and its uses
        types.RenameParams(doc_id(main), pos(MAIN, "updated_at"), new_name="changed_at")
    )
    assert "  changed_at   timestamp" in apply_edits(SOURCES, edit.changes[sources])
    assert "changed_by changed_at" in apply_edits(MAIN, edit.changes[main])


# ---- completion ------------------------------------------------------------------------------------


async def complete(client: LanguageClient, uri: str, at: types.Position) -> list[str]:
    result = await client.text_document_completion_async(types.CompletionParams(doc_id(uri), at))
    items = result.items if isinstance(result, types.CompletionList) else result
    return [i.label for i in items]


async def test_completion_keywords_entities_and_columns(client: LanguageClient, model):
    _, main = model
    open_doc(client, main, MAIN)
    await diagnostics(client, main)
    text = MAIN + "\nfact orders from "
    change(client, main, text, 2)
    labels = await complete(client, main, pos(text, "orders from ", len("orders from ")))
    assert labels == ["crm.customers"]  # after `from`: sources only
    text = MAIN + "\nfact orders from crm.cu"
    change(client, main, text, 3)
    assert await complete(client, main, pos(text, "crm.cu", 6)) == ["customers"]  # after the typed qualifier
    text = MAIN.replace("  scd2 segment", "  sc")
    change(client, main, text, 4)
    labels = await complete(client, main, pos(text, "  sc\n", 4))
    assert {"scd1", "scd2", "key", "derive", "changed_by"} <= set(labels)
    assert "grain" not in labels and "model" not in labels  # fact-only and top-level keywords
    text = MAIN.replace("  scd2 segment", "  scd2 seg")
    change(client, main, text, 5)
    labels = await complete(client, main, pos(text, "scd2 seg", 8))
    assert labels == ["customer_id", "na😀me", "segment", "updated_at"]  # columns of the dimension's source
    text = MAIN + "\n"
    change(client, main, text, 6)
    labels = await complete(client, main, types.Position(text.count("\n"), 0))
    assert {"source", "dimension", "fact", "hub"} <= set(labels) and "key" not in labels


async def test_semantic_tokens(client: LanguageClient, model):
    _, main = model
    text = MAIN.replace("  key customer_id", '  key customer_id\n  derive key string = "upper(segment)"')
    open_doc(client, main, text)
    await diagnostics(client, main)
    result = await client.text_document_semantic_tokens_full_async(types.SemanticTokensParams(doc_id(main)))
    legend = ["keyword", "type", "class", "property", "variable", "string", "comment", "number", "operator"]
    lines, line, char, found = text.split("\n"), 0, 0, []
    for i in range(0, len(result.data), 5):
        d_line, d_char, length, kind, mods = result.data[i : i + 5]
        line, char = line + d_line, (char + d_char if d_line == 0 else d_char)
        found.append((lines[line][char : char + length], legend[kind], mods))
    assert ("## One row per customer.", "comment", 2) in found  # a doc comment
    assert ("customer", "class", 1) in found and ("crm", "class", 0) in found  # declaration vs reference
    assert ("updated_at", "property", 0) in found and ("scd2", "keyword", 0) in found
    assert ("key", "variable", 0) in found and ("string", "type", 0) in found  # `derive key`: a name here


# ---- code actions, commands --------------------------------------------------------------------------


async def test_code_action_applies_did_you_mean_fix(client: LanguageClient, model):
    _, main = model
    text = MAIN.replace("from crm.customers", "from crm.customer")
    open_doc(client, main, text)
    found = await diagnostics(client, main, lambda d: len(d) > 0)
    e203 = next(d for d in found if d.code == "E203")
    actions = await client.text_document_code_action_async(
        types.CodeActionParams(doc_id(main), e203.range, types.CodeActionContext(diagnostics=[e203]))
    )
    (action,) = actions
    assert action.kind == types.CodeActionKind.QuickFix and "crm.customers" in action.title
    assert apply_edits(text, action.edit.changes[main]) == MAIN


async def test_show_compiled_sql_command(client: LanguageClient, model):
    _, main = model
    open_doc(client, main, MAIN)
    await diagnostics(client, main)
    sql = await client.workspace_execute_command_async(
        types.ExecuteCommandParams("modelc.showCompiledSql", [main, "duckdb"])
    )
    assert "CREATE TABLE" in sql.upper() and "customer" in sql


# ---- robustness -------------------------------------------------------------------------------------


async def test_random_edits_never_kill_the_server(client: LanguageClient, model):
    _, main = model
    rng = random.Random(7)
    pieces = ["{", "}", "(", ")", '"', "`", "#", "->", " from ", " key ", "\n", "😀", "é", "\t", ",", ".", "x", "9"]
    text = MAIN
    open_doc(client, main, text)
    for version in range(2, 32):
        i, j = sorted(rng.randrange(len(text) + 1) for _ in range(2))
        j = min(j, i + rng.randrange(6))
        text = text[:i] + "".join(rng.choice(pieces) for _ in range(rng.randrange(4))) + text[j:]
        change(client, main, text, version)
        at = types.Position(rng.randrange(text.count("\n") + 1), rng.randrange(40))
        if version % 3 == 0:
            await client.text_document_completion_async(types.CompletionParams(doc_id(main), at))
            await client.text_document_hover_async(types.HoverParams(doc_id(main), at))
            await client.text_document_formatting_async(
                types.DocumentFormattingParams(doc_id(main), types.FormattingOptions(tab_size=2, insert_spaces=True))
            )
        elif version % 3 == 1:
            await asyncio.sleep(0.2)  # let the debounced analysis of this text run, then query it
            await client.text_document_definition_async(types.DefinitionParams(doc_id(main), at))
            await client.text_document_semantic_tokens_full_async(types.SemanticTokensParams(doc_id(main)))
            await client.text_document_document_symbol_async(types.DocumentSymbolParams(doc_id(main)))
    change(client, main, MAIN, 40)
    assert await diagnostics(client, main, lambda d: d == []) == []
    symbols = await client.text_document_document_symbol_async(types.DocumentSymbolParams(doc_id(main)))
    assert [s.name for s in symbols] == ["customer"]
    assert not [m for m in client.log_messages if "internal error" in m.message]


# ---- the VS Code extension's JSON files -----------------------------------------------------------------


async def test_vscode_extension_json_is_valid():
    ext = ROOT / "editors" / "vscode"
    package = json.loads((ext / "package.json").read_text(encoding="utf-8"))
    assert package["contributes"]["languages"][0]["extensions"] == [".dm"]
    grammar_path = ext / package["contributes"]["grammars"][0]["path"]
    grammar = json.loads(grammar_path.read_text(encoding="utf-8"))
    assert grammar["scopeName"] == package["contributes"]["grammars"][0]["scopeName"]
    json.loads((ext / "language-configuration.json").read_text(encoding="utf-8"))
