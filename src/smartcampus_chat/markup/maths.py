"""TeX maths (``$…$``, ``$$…$$``) as MathML, rendered on the server.

MathML needs no script or font download, works without JavaScript and is read by screen
readers. The TeX source is kept in an ``<annotation>``: copy and paste and the plain-text
previews (:mod:`.text`) use it. A formula the converter cannot read is shown as code.
"""

from __future__ import annotations

from html import escape
from xml.etree import ElementTree

from latex2mathml.converter import convert

from smartcampus_chat.markup.sanitize import MATH_TAGS

#: Longer formulas, and formulas past the count per message, are shown as code (a bound on
#: the converter's work per message).
MAX_FORMULA_CHARS = 1_000
MAX_FORMULAS = 50

_MATH_OPEN = '<math xmlns="http://www.w3.org/1998/Math/MathML" display="{display}">'


def math_to_html(tex: str, *, display: bool) -> str:
    """One formula as MathML (``display``: a block of its own, else inline)."""
    tex = tex.strip()
    try:
        if not tex or len(tex) > MAX_FORMULA_CHARS:
            raise ValueError(tex)
        mathml = convert(tex, display="block" if display else "inline")
        _check(mathml)
    except Exception:
        return error_html(tex, display=display)
    inner = mathml[mathml.index(">") + 1 : mathml.rindex("</math>")]
    return (
        _MATH_OPEN.format(display="block" if display else "inline")
        + f"<semantics><mrow>{inner}</mrow>"
        + f'<annotation encoding="application/x-tex">{escape(tex, quote=False)}</annotation>'
        + "</semantics></math>"
    )


def _check(mathml: str) -> None:
    """Refuse converter output that is not MathML alone: ``\\text{…}`` is copied into the
    output unescaped, so ``\\text{<b>}`` would put other markup into the page."""
    namespace = "{http://www.w3.org/1998/Math/MathML}"
    # The converter's output starts with <math>: a DOCTYPE (entity definitions) cannot
    # follow, so parsing it expands no entity but numeric ones.
    for element in ElementTree.fromstring(mathml).iter():  # noqa: S314
        if element.tag.removeprefix(namespace) not in MATH_TAGS:
            raise ValueError(element.tag)


def error_html(tex: str, *, display: bool) -> str:
    """A formula shown as its source (unreadable, too long or over the count)."""
    delimiter = "$$" if display else "$"
    return f'<code class="scc-math-error">{escape(delimiter + tex + delimiter, quote=False)}</code>'
