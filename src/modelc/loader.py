"""Load a model: parse the root file and every file it imports, then analyze them together.

Imports are followed depth first, each file once (an import cycle just stops at a file already
read), paths relative to the importing file. Syntax errors do not stop the semantic stage: the
language server wants every diagnostic of a half-written model; only `model` is withheld.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from . import ast, ir
from .diagnostics import Diagnostic, Edit, closest, error
from .graph import find_cycles
from .parser import ParseResult, parse
from .semantic import AnalysisCache, analyze


@dataclass(frozen=True, slots=True)
class LoadResult:
    model: ir.Model | None  # None when there is any error
    diagnostics: tuple[Diagnostic, ...]  # of every file, sorted
    texts: dict[str, str]  # file -> text, to render carets under spans
    modules: dict[str, ast.Module]  # file -> syntax tree, root first (for the language server)

    @property
    def ok(self) -> bool:
        return not any(d.is_error for d in self.diagnostics)


def load_file(path: str | os.PathLike[str]) -> LoadResult:
    """Load the model whose root file is `path`."""
    file = os.fspath(path)
    try:
        data = Path(file).read_bytes()
    except OSError as exc:
        diag = error("E212", f"cannot read `{file}`: {exc.strerror or exc}", ast.Span(file, 1, 1, 1, 1))
        return LoadResult(None, (diag,), {}, {})
    return _load(file, data)


Parser = Callable[[str | bytes, str], ParseResult]


def load_text(
    text: str,
    file: str = "<string>",
    overlay: Mapping[str, str] | None = None,
    parser: Parser = parse,
    cache: AnalysisCache | None = None,
    key: Callable[[str], str] | None = None,
) -> LoadResult:
    """Load a model from `text`; its imports are read relative to `file`'s directory.

    `overlay` maps `file_key(path)` to text to use instead of the file on disk (an editor's unsaved
    buffers, for the language server); `parser(data, path)` parses one file (text for the root and
    overlaid files, bytes read from disk otherwise): the language server passes one that reuses the
    parses of unchanged statements and files, a `cache` of the semantic stage kept between edits, and a
    cached `key` (`file_key`: a `realpath` per import per edit adds up)."""
    return _load(file, text, overlay or {}, parser, cache, key or file_key)


def file_key(file: str) -> str:
    """Identity of a file, so that two spellings of one path are read once."""
    return os.path.normcase(os.path.realpath(file))


def _load(
    root: str,
    source: str | bytes,
    overlay: Mapping[str, str] | None = None,
    parser: Parser = parse,
    cache: AnalysisCache | None = None,
    key: Callable[[str], str] = file_key,
) -> LoadResult:
    diags: list[Diagnostic] = []
    texts: dict[str, str] = {}
    modules: dict[str, ast.Module] = {}
    seen = {key(root)}
    stack: list[tuple[str, str | bytes]] = [(root, source)]
    while stack:  # depth first, in import order: the order entities are declared in
        file, data = stack.pop()
        result = parser(data, file)
        texts[file], modules[file] = result.text, result.module
        diags.extend(result.diagnostics)
        found = []
        for imp in result.module.imports:
            if not imp.path.value:
                diags.append(error("E212", "empty import path", imp.span))
                continue
            target = os.path.normpath(os.path.join(os.path.dirname(file), imp.path.value))
            if key(target) in seen:  # read already, or on the way: an import cycle is fine
                continue
            buffered = (overlay or {}).get(key(target))
            content = buffered if buffered is not None else _read_import(target, imp, diags)
            if content is not None:
                seen.add(key(target))
                found.append((target, content))
        stack.extend(reversed(found))
    model, semantic = analyze(list(modules.values()), cache)
    diags.extend(semantic)
    if model is not None and not any(d.is_error for d in diags):
        cycles = find_cycles(model)
        diags.extend(cycles)
    diags.sort(key=Diagnostic.sort_key)
    ok = not any(d.is_error for d in diags)
    return LoadResult(model if ok else None, tuple(diags), texts, modules)


def _read_import(target: str, imp: ast.Import, diags: list[Diagnostic]) -> bytes | None:
    """The bytes of an imported file, or None after an E212 at the import (with the nearest .dm file)."""
    try:
        return Path(target).read_bytes()
    except FileNotFoundError:
        folder = Path(target).parent
        candidates = [p.name for p in folder.glob("*.dm")] if folder.is_dir() else []
        near = closest(Path(target).name, candidates)
        hint = fix = None
        if near is not None:
            fixed = str(Path(imp.path.value).parent / near) if Path(imp.path.value).parent != Path() else near
            hint, fix = f"did you mean `{fixed}`?", Edit(imp.path.span, f'"{fixed}"')
        diags.append(error("E212", f"imported file `{imp.path.value}` not found", imp.span, hint, fix))
    except OSError as exc:
        diags.append(error("E212", f"cannot read imported file `{imp.path.value}`: {exc.strerror or exc}", imp.span))
    return None
