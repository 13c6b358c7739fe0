// The SQL page's editor: CodeMirror (assets/codemirror/) over the page's textarea, with SQL
// highlighting; Ctrl+Enter runs the query; Tab leaves the editor (no keyboard trap).
// Without CodeMirror the plain textarea keeps working, Ctrl+Enter included.
(function () {
  "use strict";
  let editor = null;

  function run() {
    const button = document.getElementById("sql-run");
    if (button) button.click();
  }

  function attach(textarea) {
    if (textarea.dataset.editor) return;
    textarea.dataset.editor = "plain";
    textarea.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) { event.preventDefault(); run(); }
    });
    if (!window.CodeMirror) return;
    textarea.dataset.editor = "codemirror";
    editor = window.CodeMirror.fromTextArea(textarea, {
      mode: "text/x-sql",
      lineNumbers: true,
      lineWrapping: true,
      indentUnit: 2,
      screenReaderLabel: (document.querySelector("label[for=sql-editor]") || {}).textContent || "SQL",
      extraKeys: { "Ctrl-Enter": run, "Cmd-Enter": run, "Tab": false, "Shift-Tab": false },
    });
    editor.on("change", function () {
      window.dash_clientside.set_props("sql-editor", { value: editor.getValue() });
    });
  }

  // Text chosen from the examples, saved queries or history goes into the editor.
  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    sql: {
      load: function (text) {
        if (text === null || text === undefined) return window.dash_clientside.no_update;
        if (editor && editor.getValue() !== text) editor.setValue(text);
        return text;
      },
    },
  });

  new MutationObserver(function () {
    const textarea = document.getElementById("sql-editor");
    if (textarea) attach(textarea);
    else editor = null;
  }).observe(document.documentElement, { childList: true, subtree: true });
})();
