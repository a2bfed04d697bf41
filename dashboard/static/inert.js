// inert.js: the one place both pages (the dashboard and the desk) make text
// from a post, a person or a note safe to show. Loaded before app.js and
// desk.js.
"use strict";

// inert shows each bidi embedding, override or isolate (U+202A–U+202E,
// U+2066–U+2069) as a visible mark ("[U+202E]"), so that a post from a
// platform, an author's name or a note stored before the API refused them
// cannot reorder what the reader sees. What is stored stays exact: only
// the page's copy is marked. Right-to-left text and the marks U+200E/U+200F
// stay.
function inert(s) {
  return String(s ?? "").replace(/[\u202a-\u202e\u2066-\u2069]/g, c => `[U+${c.codePointAt(0).toString(16).toUpperCase()}]`);
}
