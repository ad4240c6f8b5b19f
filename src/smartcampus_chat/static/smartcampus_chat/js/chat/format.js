/*
 * Formatted message text. The server renders a message's Markdown once, when it is
 * written, and sanitises it (markup, docs/formatting.md): `content_html` is the one
 * piece of user-derived HTML this client inserts. Every other user text goes in with
 * textContent, and so does a message's Markdown source (`content`), kept for editing.
 */

// Python's and JavaScript's \s differ by these: both sides use the union.
const SPACES = /[\s\x1c-\x1f\x85]+/g;

/** The nodes of `html`, parsed in an inert document (nothing in it loads or runs). */
function parse(html) {
  return new DOMParser().parseFromString(html || "", "text/html").body;
}

/** Show `html` (a message's content_html) in `container`. */
export function showFormatted(container, html) {
  container.replaceChildren(...parse(html).childNodes);
  container.classList.remove("scc-text");
}

/**
 * The text of formatted content as one line, by markup/text.py's rule: blocks and
 * line breaks become spaces, a formula its TeX source. For previews and announcements.
 */
export function plainText(container) {
  const copy = container.cloneNode(true);
  copy.querySelectorAll("math").forEach(function (math) {
    const source = math.querySelector("annotation");
    math.replaceWith(source ? source.textContent : math.textContent);
  });
  copy.querySelectorAll("br").forEach(function (br) {
    br.replaceWith(" ");
  });
  copy.querySelectorAll("p, li, pre, blockquote, tr, th, td").forEach(function (block) {
    block.append(" ");
  });
  return copy.textContent.replace(SPACES, " ").replace(/^ | $/g, "");
}

/** The start of a message's text, as quotes and the pinned list show it: its plain text
    cut at 120 characters (the server's ``protocol.render.excerpt``). */
export function excerptOf(html) {
  const text = plainTextOf(html);
  return text.length <= 120 ? text : text.slice(0, 119) + "…";
}

/** plainText of `html` (a message's content_html). */
export function plainTextOf(html) {
  return plainText(parse(html));
}

/** A search result's `snippet_html` (escaped text with <mark>, docs/search.md) as text
    and <mark> elements only: anything else in it would become its text. */
export function snippetNodes(html) {
  const fragment = document.createDocumentFragment();
  parse(html).childNodes.forEach(function (node) {
    if (node.nodeName === "MARK") {
      const mark = document.createElement("mark");
      mark.textContent = node.textContent;
      fragment.append(mark);
    } else {
      fragment.append(node.textContent || "");
    }
  });
  return fragment;
}
