"""Deterministic, readable replies, and the word-ish tokens they stream as.

A reply is Markdown: a heading or an intro, a bulleted list, a fenced code block with a
language tag and, in most styles, a closing line. It depends on the conversation, the
model's base name, its style and the temperature and top_p, and on nothing else: the
same request always gets the same reply, and a temperature sweep of one model gets a
different reply at each temperature.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from typing import Any

# Leading whitespace stays with the piece that follows it, so "".join(tokens) == text.
TOKEN_PATTERN = re.compile(r"\s*[\w']+|\s*[^\w\s]+|\s+")

# Tokens a message costs beyond its content (role and framing), as OpenAI counts roughly.
MESSAGE_OVERHEAD_TOKENS = 4
REPLY_PRIMING_TOKENS = 3

# Words that open a question rather than say what it is about.
QUESTION_OPENING = re.compile(
    r"^(?:(?:please|hi|hello|hey|so|ok|okay|can you|could you|would you|help me"
    r"|how (?:do|can|should|would) (?:i|we|you)|how to|what (?:is|are)|why (?:is|are|do|does)"
    r"|explain|describe|tell me about|show me|give me|write|i want to|i need to)\b[\s,]*)+",
    re.IGNORECASE,
)

LANGUAGES = {
    "python": ("python", "pandas", "numpy", "django", "flask", "jupyter", "notebook"),
    "javascript": ("javascript", "js", "node", "react", "browser", "npm"),
    "typescript": ("typescript", "ts", "angular", "deno"),
    "sql": ("sql", "mysql", "sqlite", "postgres", "database", "query", "table", "join"),
    "bash": ("bash", "shell", "linux", "terminal", "script", "cli", "unix"),
    "rust": ("rust", "cargo", "borrow"),
    "go": ("go", "golang", "goroutine"),
}

POINTS = (
    "Start from what {topic} has to guarantee, then work backwards to the details.",
    "Measure before changing anything: the cost of {topic} usually hides in one place.",
    "Keep the first version of {topic} small enough to explain in a sentence.",
    "Write down the assumptions behind {topic}; most surprises come from one of them.",
    "Compare two or three approaches to {topic} on the same input before choosing.",
    "Test {topic} at the edges: empty input, huge input and input that is almost right.",
    "Name things after what they mean in {topic}, not after how they are built.",
    "Automate the boring checks around {topic} so that reviews can focus on design.",
    "Prefer boring, well-known tools for {topic} unless a measurement says otherwise.",
    "Look at real examples of {topic} early; they correct wrong ideas quickly.",
    "Plan how {topic} fails: a clear error beats a silent wrong answer.",
    "Keep data and presentation apart, so {topic} can be checked without a screen.",
    "Read the documentation of the parts {topic} relies on, including the limits.",
    "Record what you tried for {topic} and why, so the next person does not repeat it.",
    "Split {topic} into steps that can each be verified on their own.",
    "Revisit {topic} after a break; a fresh look finds what a tired one skips.",
)

INTROS = (
    "Here is a short overview of {topic}.",
    "A few practical notes on {topic}.",
    "{Topic} is easier to handle with a clear plan.",
    "Let's break {topic} down into manageable parts.",
    "There are several ways to look at {topic}; these work well in practice.",
    "{Topic} comes up often, and a handful of habits make it much simpler.",
)

CLOSINGS = (
    "Adjust the details to your own data and constraints.",
    "Start with the simplest version and grow it as you learn.",
    "If something does not behave as expected, check the assumptions first.",
    "That should be enough to get going; refine it once it runs.",
    "Try it on a small example before applying it everywhere.",
)

REFLECTIONS = (
    "The hard part is rarely the code; it is deciding what {topic} should mean.",
    "A good answer on {topic} today is one that is easy to change tomorrow.",
    "Most trouble with {topic} starts where two assumptions quietly disagree.",
)

SNIPPETS = {
    "python": (
        'def {ident}(items):\n    """{Topic}: keep what matters, in order."""\n'
        "    return [item.strip() for item in items if item and item.strip()]\n\n"
        'print({ident}([" first ", "", "second"]))',
        "from collections import Counter\n\n\ndef {ident}(words):\n"
        "    counts = Counter(w.lower() for w in words)\n    return counts.most_common({n})",
    ),
    "javascript": (
        "function {ident}(items) {{\n  // {Topic}: keep what matters, in order\n"
        "  return items.map((item) => item.trim()).filter(Boolean);\n}}\n\n"
        'console.log({ident}([" first ", "", "second"]));',
        "const {ident} = (values) =>\n  values.reduce((total, value) => total + value, 0) "
        "/ Math.max(values.length, 1);",
    ),
    "typescript": (
        "export function {ident}(items: string[]): string[] {{\n"
        "  return items.map((item) => item.trim()).filter((item) => item.length > 0);\n}}",
    ),
    "sql": (
        "-- {Topic}: the {n} most frequent values\nSELECT value, COUNT(*) AS uses\n"
        "FROM events\nGROUP BY value\nORDER BY uses DESC\nLIMIT {n};",
        "SELECT model, AVG(latency_ms) AS avg_latency\nFROM turn_results\n"
        "WHERE status = 'succeeded'\nGROUP BY model;",
    ),
    "bash": (
        "# {Topic}: count the lines of each file\nfor f in *.txt; do\n"
        '  printf "%s %s\\n" "$(wc -l < "$f")" "$f"\ndone | sort -n | tail -n {n}',
    ),
    "rust": (
        "fn {ident}(items: &[&str]) -> Vec<String> {{\n    items.iter()\n"
        "        .map(|s| s.trim().to_string())\n        .filter(|s| !s.is_empty())\n"
        "        .collect()\n}}",
    ),
    "go": (
        "func {ident}(items []string) []string {{\n\tout := items[:0]\n"
        '\tfor _, s := range items {{\n\t\tif t := strings.TrimSpace(s); t != "" {{\n'
        "\t\t\tout = append(out, t)\n\t\t}}\n\t}}\n\treturn out\n}}",
    ),
}


def tokenize(text: str) -> list[str]:
    """Split text into word-ish pieces that join back into exactly the text."""
    return TOKEN_PATTERN.findall(text)


def message_text(message: dict[str, Any]) -> str:
    """The text of a message: a string, or the text parts of a list of parts."""
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            part.get("text", "")
            for part in content
            if isinstance(part, dict) and isinstance(part.get("text"), str)
        )
    return ""


def count_prompt_tokens(messages: list[dict[str, Any]]) -> int:
    return REPLY_PRIMING_TOKENS + sum(
        MESSAGE_OVERHEAD_TOKENS + len(tokenize(message_text(m))) for m in messages
    )


def last_user_text(messages: list[dict[str, Any]]) -> str:
    for message in reversed(messages):
        if message.get("role") == "user":
            return message_text(message)
    return ""


def _topic(prompt: str) -> str:
    """What the prompt is about, as a short phrase: its first sentence without the
    question's opening words ("How do I join two tables in SQL?" → "join two tables in
    SQL")."""
    first = re.split(r"[.?!:;\n]", prompt.strip(), maxsplit=1)[0]
    words = re.findall(r"[\w'+#-]+", QUESTION_OPENING.sub("", first.strip()))[:8]
    return " ".join(words) or "your question"


def _language(prompt: str, rng: random.Random) -> str:
    words = set(re.findall(r"[a-z]+", prompt.lower()))
    for language, hints in LANGUAGES.items():
        if words & set(hints):
            return language
    return rng.choice(("python", "javascript", "sql", "bash"))


def _seed(messages: list[dict[str, Any]], base_name: str, temperature: float, top_p: float):
    material = json.dumps(
        [
            base_name,
            round(temperature, 3),
            round(top_p, 3),
            [(m.get("role"), message_text(m)) for m in messages],
        ]
    )
    return int.from_bytes(hashlib.sha256(material.encode()).digest()[:8], "big")


def compose_reply(
    messages: list[dict[str, Any]],
    *,
    base_name: str,
    style: str,
    temperature: float = 1.0,
    top_p: float = 1.0,
) -> str:
    """The Markdown reply a demo model gives to this conversation."""
    rng = random.Random(_seed(messages, base_name, temperature, top_p))
    prompt = last_user_text(messages)
    topic = _topic(prompt)
    fill = {"topic": topic, "Topic": topic[:1].upper() + topic[1:]}
    ident = re.sub(r"\W+", "_", topic).strip("_") or "answer"
    language = _language(prompt, rng)
    code = rng.choice(SNIPPETS[language]).format(
        ident=ident if ident[0].isalpha() else f"f_{ident}", n=rng.randint(3, 9), **fill
    )
    fence = f"```{language}\n{code}\n```"
    count = {"concise": 3, "balanced": 4, "detailed": 6, "thoughtful": 4}[style]
    bullets = "\n".join(f"- {p.format(**fill)}" for p in rng.sample(POINTS, count))
    intro = rng.choice(INTROS).format(**fill)
    closing = rng.choice(CLOSINGS)
    if style == "concise":
        parts = [f"**{fill['Topic']}** in short:", bullets, fence]
    elif style == "detailed":
        extra = rng.choice(INTROS).format(**fill)
        parts = [
            f"## {fill['Topic']}: a closer look",
            f"{intro} {extra}" if extra != intro else intro,
            "### Key points",
            bullets,
            "### Example",
            fence,
            f"{closing} Tip: keep notes of what you measure, so comparisons stay honest.",
        ]
    elif style == "thoughtful":
        parts = [
            f"Let me think about {topic} step by step.",
            "### What matters",
            bullets,
            "### A sketch",
            fence,
            f"> {rng.choice(REFLECTIONS).format(**fill)}",
            closing,
        ]
    else:
        parts = [f"### {fill['Topic']}", intro, bullets, fence, closing]
    return "\n\n".join(parts)


def extend_to(tokens: list[str], wanted: int, seed_text: str) -> list[str]:
    """Exactly ``wanted`` tokens: the reply, continued with more points when too short."""
    rng = random.Random(seed_text)
    out = list(tokens)
    while len(out) < wanted:
        out.extend(tokenize("\n- " + rng.choice(POINTS).format(topic="this", Topic="This")))
    return out[:wanted]


TABLE_HEADINGS = ("region", "requests", "p50 ms", "p95 ms", "share %", "cost $")
REGIONS = ("north", "south", "east", "west", "central", "coastal", "alpine", "delta")


def _stress_table(rng: random.Random, rows: int) -> str:
    lines = ["| " + " | ".join(TABLE_HEADINGS) + " |", "|" + "---|" * len(TABLE_HEADINGS)]
    for _ in range(rows):
        cells = (
            rng.choice(REGIONS),
            f"{rng.randint(1_000, 9_999_999):,}",
            f"{rng.uniform(5, 500):,.2f}",
            f"{rng.uniform(500, 50_000):,.2f}",
            f"{rng.uniform(0, 100):.3f}",
            f"{rng.uniform(10, 1_000_000):,.2f}",
        )
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def stress_document(tokens: int, *, code_blocks: int = 50, tables: int = 50, seed: int = 0) -> str:
    """A long Markdown document for benchmarks (sent back through ``echo``): sections with
    a heading, prose, a list, a fenced code block and a wide table of numbers, spread
    evenly, about ``tokens`` tokens in all (``extend_to`` makes it exact)."""
    rng = random.Random(seed)
    sections = max(code_blocks, tables, 1)
    budget = tokens // sections - 8  # the blank lines between parts are tokens too
    parts: list[str] = []
    for index in range(sections):
        topic = f"part {index + 1}"
        fill = {"topic": topic, "Topic": topic.capitalize()}
        language = rng.choice(sorted(SNIPPETS))
        section = [
            f"## {fill['Topic']}",
            rng.choice(INTROS).format(**fill),
            "\n".join(f"- {p.format(**fill)}" for p in rng.sample(POINTS, 3)),
        ]
        if index < code_blocks:
            code = rng.choice(SNIPPETS[language]).format(ident=f"part_{index}", n=index, **fill)
            section.append(f"```{language}\n{code}\n```")
        if index < tables:
            section.append(_stress_table(rng, rows=6))
        used = len(tokenize("\n\n".join(section)))
        prose: list[str] = []
        while used < budget:
            sentence = rng.choice(POINTS).format(**fill)
            prose.append(sentence)
            used += len(tokenize(" " + sentence))
        if prose:
            section.insert(2, " ".join(prose))
        parts.append("\n\n".join(section))
    return "\n\n".join(parts)


def _block(text: str, tag: str) -> str | None:
    start, end = text.rfind(f"<{tag}>"), text.rfind(f"</{tag}>")
    return text[start + len(tag) + 2 : end].strip() if 0 <= start < end else None


def judge_reply(prompt: str) -> str:
    """A judge's verdict, deterministic: with a ``<reference>`` block, 1 when the
    ``<reply>`` contains the reference (ignoring case) and 0 when it does not; without
    one, the reply's length in words over 100 (at most 1), to two decimals."""
    reply = _block(prompt, "reply") or ""
    reference = _block(prompt, "reference")
    if reference is not None:
        found = reference.casefold() in reply.casefold()
        score, why = (1.0, "the reply has the reference") if found else (0.0, "it lacks it")
    else:
        words = len(reply.split())
        score, why = round(min(1.0, words / 100), 2), f"{words} words"
    return json.dumps({"score": score, "rationale": why})
