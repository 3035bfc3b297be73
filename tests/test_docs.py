"""The docs stay true to the code: every message the troubleshooting page quotes is one
the code can still print."""

import io
import re
import tokenize

import pytest

from tests.helpers.runs import ROOT

TROUBLESHOOTING = ROOT / "docs" / "troubleshooting.md"


def string_templates():
    """Every string in the packages' code, with implicitly concatenated literals joined
    and f-string fields left as written (`{name}`)."""
    templates = []
    for path in [*(ROOT / "keras_models").rglob("*.py"), *(ROOT / "tf_diffaug").rglob("*.py")]:
        parts = []
        for token in tokenize.generate_tokens(io.StringIO(path.read_text()).readline):
            if token.type == tokenize.STRING:
                body = token.string.lstrip("rbfuRBFU")
                quote = body[:3] if body[:3] in ('"""', "'''") else body[0]
                parts.append(body[len(quote) : -len(quote)])
            elif token.type not in (tokenize.NL, tokenize.COMMENT) and parts:
                templates.append("".join(parts))
                parts = []
    return templates


def quoted_messages():
    """The quoted parts of the first cell of each table row of the troubleshooting page."""
    rows = [line for line in TROUBLESHOOTING.read_text().splitlines() if line.startswith("| `")]
    return [part for row in rows for part in re.findall(r"`([^`]+)`", row.split(" | ")[0])]


@pytest.mark.parametrize("message", quoted_messages())
def test_each_quoted_message_is_one_the_code_prints(message):
    assert any(message in template for template in string_templates()), message
