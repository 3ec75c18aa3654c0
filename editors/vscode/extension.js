// Starts `modelc lsp` over stdio for .dm files. The editor command `modelc.showSql` asks the server for its
// `modelc.showCompiledSql` command (a different id: the client registers server commands itself).
const vscode = require("vscode");
const { LanguageClient, TransportKind } = require("vscode-languageclient/node");

let client;

async function activate(context) {
  const config = vscode.workspace.getConfiguration("modelc");
  const command = config.get("path", "modelc");
  const serverOptions = { command, args: ["lsp"], transport: TransportKind.stdio };
  const clientOptions = {
    documentSelector: [{ language: "dm" }],
    initializationOptions: { modelc: { dialect: config.get("dialect", "duckdb") } },
    // Sends `modelc.*` settings on change: the server reads `modelc.dialect` from them.
    synchronize: { configurationSection: "modelc" },
  };
  client = new LanguageClient("modelc", "modelc", serverOptions, clientOptions);
  await client.start();

  context.subscriptions.push(
    vscode.commands.registerCommand("modelc.showSql", async () => {
      const editor = vscode.window.activeTextEditor;
      if (!editor || editor.document.languageId !== "dm") {
        return;
      }
      const sql = await client.sendRequest("workspace/executeCommand", {
        command: "modelc.showCompiledSql",
        arguments: [editor.document.uri.toString()],
      });
      const doc = await vscode.workspace.openTextDocument({ language: "sql", content: sql || "" });
      await vscode.window.showTextDocument(doc, { preview: true, viewColumn: vscode.ViewColumn.Beside });
    })
  );
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
