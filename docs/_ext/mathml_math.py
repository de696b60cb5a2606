"""Render the math of the docs as MathML when Sphinx builds the HTML.

Browsers display MathML natively, so the pages need no JavaScript and no
network: the docs build and render offline (Sphinx's default, MathJax, is
loaded from a CDN). LaTeX is converted by ``latex2mathml`` (pure Python).
A formula it cannot convert is a Sphinx warning, so ``-W`` catches it.
"""

from docutils import nodes
from latex2mathml.converter import convert
from sphinx.util import logging
from sphinx.util.math import get_node_equation_number

logger = logging.getLogger(__name__)


def _to_mathml(latex, display, node):
    try:
        return convert(latex, display=display)
    except Exception as exc:  # latex2mathml raises many exception types
        logger.warning("cannot convert math %r to MathML: %s", latex, exc, location=node)
        return f"<code>{nodes.Text(latex).astext()}</code>"


def visit_math(self, node):
    self.body.append(self.starttag(node, "span", "", CLASS="math notranslate"))
    self.body.append(_to_mathml(node.astext(), "inline", node))
    self.body.append("</span>")
    raise nodes.SkipNode


def visit_displaymath(self, node):
    self.body.append(self.starttag(node, "div", CLASS="math notranslate"))
    if node["number"]:
        number = get_node_equation_number(self, node)
        self.body.append(f'<span class="eqno">({number})')
        self.add_permalink_ref(node, "Link to this equation")
        self.body.append("</span>")
    # As in Sphinx's other renderers, blank lines separate equations.
    equations = [part for part in node.astext().split("\n\n") if part.strip()]
    for latex in equations:
        self.body.append(_to_mathml(latex, "block", node))
    self.body.append("</div>\n")
    raise nodes.SkipNode


def setup(app):
    app.add_html_math_renderer("mathml", (visit_math, None), (visit_displaymath, None))
    return {"parallel_read_safe": True, "parallel_write_safe": True}
