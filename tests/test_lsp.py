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
    # what `vsce package` needs to run without questions (docs/editors.md has the command)
    assert (ext / "LICENSE").read_text(encoding="utf-8").lstrip().startswith("Apache License")
    assert package["license"] == "Apache-2.0" and (ext / "README.md").is_file()
    assert {"node_modules/", "*.vsix"} <= set((ext / ".gitignore").read_text(encoding="utf-8").split())


# ---- quick fixes: add a missing import, add a missing source column --------------------------------------


async def quick_fixes(client: LanguageClient, uri: str, diag: types.Diagnostic) -> list[types.CodeAction]:
    return await client.text_document_code_action_async(
        types.CodeActionParams(doc_id(uri), diag.range, types.CodeActionContext(diagnostics=[diag]))
    )


def folders_changed(client: LanguageClient, added: Sequence[Path] = (), removed: Sequence[Path] = ()) -> None:
    def folder(p: Path) -> types.WorkspaceFolder:
        return types.WorkspaceFolder(uri=p.as_uri(), name=p.name)

    event = types.WorkspaceFoldersChangeEvent(added=[folder(p) for p in added], removed=[folder(p) for p in removed])
    client.workspace_did_change_workspace_folders(types.DidChangeWorkspaceFoldersParams(event=event))


async def test_code_action_adds_missing_import_from_workspace_folder(client: LanguageClient, tmp_path: Path):
    (tmp_path / "sources").mkdir()
    (tmp_path / "models").mkdir()
    (tmp_path / "sources" / "crm.dm").write_text(SOURCES, encoding="utf-8")
    (tmp_path / "sources" / "other.dm").write_text("model shop\n\nsource crm.customers_v2 {\n  x  int\n}\n", "utf-8")
    main = (tmp_path / "models" / "main.dm").as_uri()
    text = MAIN.replace('import "sources.dm"\n', "")  # `model shop`, a blank line, the dimension
    folders_changed(client, added=[tmp_path])
    try:
        open_doc(client, main, text)
        found = await diagnostics(client, main, lambda d: "E203" in codes(d))
        e203 = next(d for d in found if d.code == "E203")
        actions = [a for a in await quick_fixes(client, main, e203) if "import" in a.title]
        assert [a.title for a in actions] == ['Add `import "../sources/crm.dm"` (declares `crm.customers`)']
        assert actions[0].is_preferred and actions[0].kind == types.CodeActionKind.QuickFix
        fixed = apply_edits(text, actions[0].edit.changes[main])
        assert fixed == MAIN.replace('import "sources.dm"', '\nimport "../sources/crm.dm"')
        assert fixed == format_text(parse(fixed))  # where `modelc fmt` puts it
        change(client, main, fixed, 2)
        assert await diagnostics(client, main, lambda d: "E203" not in codes(d)) == []
    finally:
        folders_changed(client, removed=[tmp_path])


async def test_code_action_imports_a_hub_next_to_the_other_imports(client: LanguageClient, model, tmp_path: Path):
    # no workspace folder: the file's own folder is searched
    (tmp_path / "hubs.dm").write_text(
        'model shop\nimport "sources.dm"\n\nhub customer_hub from crm.customers {\n  key customer_id\n}\n', "utf-8"
    )
    (tmp_path / "decoy.dm").write_text("model shop\n\ndimension customer_hub calendar 2020-01-01 .. 2020-12-31\n")
    text = (
        MAIN
        + "\nlink customer_segment from crm.customers {\n  hubs customer_hub(customer_id), customer_hub(segment)\n}\n"
    )
    _, main = model
    open_doc(client, main, text)
    found = await diagnostics(client, main, lambda d: "E206" in codes(d))
    e206 = [d for d in found if d.code == "E206"]
    assert len(e206) == 2
    (action,) = [a for a in await quick_fixes(client, main, e206[0]) if "import" in a.title]  # not the calendar
    fixed = apply_edits(text, action.edit.changes[main])
    assert fixed.startswith('model shop\nimport "sources.dm"\nimport "hubs.dm"\n\n## One row per customer.')
    change(client, main, fixed, 2)
    found = await diagnostics(client, main, lambda d: "E206" not in codes(d))
    assert "E206" not in codes(found)


async def test_code_action_adds_missing_column_to_source_in_another_file(client: LanguageClient, model, tmp_path: Path):
    sources, main = model
    text = MAIN.replace("scd2 segment", "scd2 segment, region")
    open_doc(client, main, text)
    found = await diagnostics(client, main, lambda d: "E204" in codes(d))
    e204 = next(d for d in found if d.code == "E204")
    (action,) = [a for a in await quick_fixes(client, main, e204) if "column" in a.title]
    assert action.title == "Add column `region string` to source `crm.customers`" and action.is_preferred
    assert list(action.edit.changes) == [sources]  # the source is declared in the imported file
    new_sources = apply_edits(SOURCES, action.edit.changes[sources])
    assert "  updated_at   timestamp  not null\n  region       string\n}" in new_sources
    assert new_sources == format_text(parse(new_sources))
    (tmp_path / "sources.dm").write_text(new_sources, encoding="utf-8")  # as a client saves a closed file it edits
    change(client, main, text, 2)
    assert await diagnostics(client, main, lambda d: "E204" not in codes(d)) == []


ORDERS = """\
model shop

import "sources.dm"

dimension customer from crm.customers {
  key customer_id
  scd2 segment
  changed_by updated_at
}

source shop.orders {
  order_id  bigint  not null
}

fact order from shop.orders {
  grain order_id
  customer -> customer at ordered_at
  measure amount sum
}
"""


async def test_code_action_adds_missing_columns_with_types_from_usage(client: LanguageClient, model):
    _, main = model
    text, version = ORDERS, 1
    open_doc(client, main, text)
    added: dict[str, str] = {}
    for column in ("customer_id", "ordered_at", "amount"):
        found = await diagnostics(
            client, main, lambda d: not any(f"column `{c}`" in x.message for c in added for x in d)
        )
        diag = next(d for d in found if f"column `{column}`" in d.message)
        (action,) = [a for a in await quick_fixes(client, main, diag) if "column" in a.title]
        assert action.is_preferred == (column != "ordered_at")  # "did you mean `order_id`?" comes first
        text = apply_edits(text, action.edit.changes[main])
        added[column] = action.title
        version += 1
        change(client, main, text, version)
    assert added == {
        "customer_id": "Add column `customer_id int` to source `shop.orders`",  # the key type of `customer`
        "ordered_at": "Add column `ordered_at timestamp` to source `shop.orders`",  # `at`
        "amount": "Add column `amount decimal(18, 2)` to source `shop.orders`",  # a summed measure
    }
    assert (
        "source shop.orders {\n"
        "  order_id     bigint          not null\n"
        "  customer_id  int\n"
        "  ordered_at   timestamp\n"
        "  amount       decimal(18, 2)\n"
        "}\n"
    ) in text  # realigned as the columns grew
    assert text == format_text(parse(text))
    assert await diagnostics(client, main, lambda d: "E204" not in codes(d)) == []


async def test_code_action_fills_an_empty_source_with_hub_key_types(client: LanguageClient, model):
    _, main = model
    text = (
        'model shop\n\nimport "sources.dm"\n\nhub customer_hub from crm.customers {\n  key customer_id\n}\n\n'
        "source shop.referrals {}\n\n"
        "link referral from shop.referrals {\n"
        "  hubs customer_hub(referee) as referee, customer_hub(referrer) as referrer\n}\n"
    )

    def unknown(column: str) -> Callable[[Sequence[types.Diagnostic]], bool]:
        return lambda found: any(f"column `{column}`" in d.message for d in found)

    open_doc(client, main, text)
    for version, column in enumerate(("referee", "referrer"), 2):
        found = await diagnostics(client, main, unknown(column))
        diag = next(d for d in found if f"column `{column}`" in d.message)
        (action,) = [a for a in await quick_fixes(client, main, diag) if "column" in a.title]
        assert action.title == f"Add column `{column} int` to source `shop.referrals`"  # the hub's key is an int
        text = apply_edits(text, action.edit.changes[main])
        change(client, main, text, version)
        await diagnostics(client, main, lambda d, column=column: not unknown(column)(d))
    assert "source shop.referrals {\n  referee   int\n  referrer  int\n}\n" in text
    assert text == format_text(parse(text))
    assert await diagnostics(client, main, lambda d: "E204" not in codes(d)) == []


# ---- range formatting ----------------------------------------------------------------------------------


async def test_range_formatting_touches_only_the_entities_in_range(client: LanguageClient, model):
    _, main = model
    messy = (
        'model shop\nimport "sources.dm"\n\n'
        "## Customers.\n"
        "dimension customer from crm.customers { key customer_id  # the key\n"
        "    scd2   segment\n\n\n  changed_by updated_at }\n\n"
        "   # a comment left alone\n"
        "fact  visits  from crm.customers {grain customer_id\n"
        "        measure segment count }\n"
    )
    open_doc(client, main, messy)

    async def format_range(start: types.Position, end: types.Position) -> list[types.TextEdit]:
        opts = types.FormattingOptions(tab_size=2, insert_spaces=True)
        params = types.DocumentRangeFormattingParams(doc_id(main), types.Range(start, end), opts)
        return await client.text_document_range_formatting_async(params)

    at = pos(messy, "scd2   segment")  # a cursor in the dimension: an empty range
    once = apply_edits(messy, await format_range(at, at))
    whole = format_text(parse(messy))
    dimension = whole[whole.index("dimension") : whole.index("}\n") + 1]
    assert dimension == (
        "dimension customer from crm.customers {\n  key customer_id  # the key\n  scd2 segment\n\n"
        "  changed_by updated_at\n}"
    )
    assert once == messy[: messy.index("dimension")] + dimension + messy[messy.index(" }\n\n   #") + 2 :]
    change(client, main, once, 2)
    twice = apply_edits(once, await format_range(pos(once, "customer_id"), pos(once, "measure")))
    assert twice == once[: once.index("fact")] + whole[whole.index("fact") :]  # the comment between: untouched
    change(client, main, twice, 3)
    assert list(await format_range(types.Position(0, 0), types.Position(99, 0))) == []  # each block is formatted
    change(client, main, twice + "}}", 4)
    assert await format_range(types.Position(0, 0), types.Position(99, 0)) is None  # syntax errors: left alone


# ---- responsiveness on a large model --------------------------------------------------------------------


def big_model(groups: int) -> str:
    """About 50 lines per group: two sources, a dimension, a fact, two hubs, a link and a satellite."""
    out = ["model big\n"]
    for i in range(groups):
        out.append(f"""\
## Customers of region {i}.
source crm.customers_{i} {{
  customer_id  int        not null
  full_name    string     not null
  email        string     pii
  segment      string     not null
  updated_at   timestamp  not null
  test customer_id unique
}}

source shop.orders_{i} {{
  order_id     bigint          not null
  customer_id  int             not null
  ordered_at   timestamp       not null
  amount       decimal(12, 2)  not null
  loaded_at    timestamp       not null
}}

dimension customer_{i} from crm.customers_{i} {{
  key customer_id
  scd2 segment
  scd1 full_name, email
  changed_by updated_at
}}

fact order_{i} from shop.orders_{i} {{
  grain order_id
  customer -> customer_{i} at ordered_at
  measure amount sum
  incremental on loaded_at
}}

hub customer_hub_{i} from crm.customers_{i} {{
  key customer_id
}}

hub order_hub_{i} from shop.orders_{i} {{
  key order_id
}}

link customer_order_{i} from shop.orders_{i} {{
  hubs customer_hub_{i}(customer_id), order_hub_{i}(order_id)
}}

satellite customer_details_{i} of customer_hub_{i} from crm.customers_{i} {{
  payload full_name, email, segment
}}
""")
    return "\n".join(out)


async def test_large_model_diagnostics_arrive_quickly(client: LanguageClient, tmp_path: Path):
    text = big_model(104)
    assert 4900 < text.count("\n") < 5100
    uri = (tmp_path / "big.dm").as_uri()
    open_doc(client, uri, text)
    assert await diagnostics(client, uri) == []
    lines = text.split("\n")
    typo_lines = [i for i, line in enumerate(lines) if line.startswith("  segment      string")]
    latencies = []
    for version in range(2, 22):
        line = typo_lines[(version * 37) % len(typo_lines)]
        broken = version % 2 == 0  # alternately break a type and repair it: each edit changes the diagnostics
        edited = lines.copy()
        if broken:
            edited[line] = edited[line].replace("string", "strin")
        start = asyncio.get_running_loop().time()
        change(client, uri, "\n".join(edited), version)
        for _ in range(2000):
            found = client.diagnostics.get(uri, [])
            if (len(found) == 1 and found[0].range.start.line == line) if broken else not found:
                break
            await asyncio.sleep(0.002)
        else:
            raise AssertionError(f"no diagnostics for version {version}")
        latencies.append(asyncio.get_running_loop().time() - start)
    latencies.sort()
    p50, p95 = latencies[len(latencies) // 2], latencies[int(len(latencies) * 0.95) - 1]
    lines_count = text.count("\n")
    print(f"\n{lines_count} lines: didChange -> publishDiagnostics p50 {p50 * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms")
    assert p95 < 1.0, f"p50 {p50:.3f} s, p95 {p95:.3f} s"


def _spans(module) -> list:
    return [(type(n).__name__, getattr(n, "span", None), getattr(n, "doc", None)) for n in module.walk()] + [
        (c.text, c.span) for c in module.comments
    ]


async def test_statement_by_statement_parse_matches_a_whole_parse(tmp_path: Path):
    """The server re-parses only the statements an edit touched: after any edit, the same tree, spans and
    diagnostics as parsing the whole file (in-process: this checks the bookkeeping, not the protocol)."""
    from modelc.loader import load_text
    from modelc.lsp import load_model, parse_buffer

    file = str(tmp_path / "m.dm")
    rng = random.Random(11)
    new_lines = ["", "# note", "## doc", "  # inside", "source x.y {\n  a  int\n}", 'import "x.dm"', "model q", "}",
                 "dimension d calendar 2020-01-01 .. 2020-12-31", "  key customer_id", "\tpayload email"]  # fmt: skip
    for base in (big_model(2), (ROOT / "examples" / "vault" / "vault.dm").read_text(encoding="utf-8")):
        text, ok = base, True
        for _ in range(60):
            lines = (text if ok or rng.random() < 0.3 else base).split("\n")  # broken: mostly start again
            at, what = rng.randrange(len(lines)), rng.random()
            if what < 0.4:  # mostly edits that keep the file readable, so the pieces get re-used
                lines.insert(at, rng.choice(new_lines))
            elif what < 0.6:
                del lines[at]
            elif what < 0.9:
                lines[at] = lines[at].replace("string", rng.choice(["strin", "int", "decimal(40, 2)", "string(9)"]))
            else:
                lines[at] = lines[at][: rng.randrange(len(lines[at]) + 1)]
            text = "\n".join(lines)
            mine, whole = parse_buffer(text, file), parse(text, file)
            assert mine.module == whole.module and mine.module.span == whole.module.span
            assert _spans(mine.module) == _spans(whole.module)
            assert mine.diagnostics == whole.diagnostics and mine.text == whole.text
            ok = whole.ok
    (tmp_path / "sources.dm").write_text(SOURCES.replace("segment      string", "segment      strin"), "utf-8")
    main = MAIN.replace('"sources.dm"', '"sources.dm"\nimport "nowhere.dm"') + 'import "late.dm"\n'  # E212, E112
    files = [(str(tmp_path / "main.dm"), main)]
    files += [(str(p), p.read_text(encoding="utf-8")) for p in sorted((ROOT / "examples").glob("*/*.dm"))]
    for path, text in files:
        mine, loaded = load_model(text, path), load_text(text, path)
        assert mine.diagnostics == loaded.diagnostics and list(mine.modules) == list(loaded.modules)
        assert (mine.model is None) == (loaded.model is None) and mine.texts == loaded.texts
