"""The digest's text and HTML, rendered from its sections and cards (core/digest.py builds
them). Every value from the workbook is escaped in the HTML; links are made only by the
builder, from what `Link.href` allows.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

from followup.core.drafts import one_line

NOTHING = "Nobody to follow up with today. Enjoy the day."


FOOTER = (
    "Sent by followup to you alone; it never writes to your contacts. After you follow up, "
    "update Last contact in your workbook (or run: followup done NAME)."
)


DRAFT_HINT = "Each email address opens a short drafted message: make it yours before sending."


@dataclass(frozen=True)
class Link:
    """A way to reach someone; `href` is None when the data cannot safely become a link."""

    label: str
    shown: str
    href: str | None


@dataclass(frozen=True)
class Reach:
    """How to reach one person, and the draft to copy when it cannot ride in a mailto: link."""

    links: tuple[Link, ...] = ()
    copy_label: str = ""
    copy: tuple[str, ...] = ()


@dataclass(frozen=True)
class Card:
    """One person, one crowd from an event, or one problem in a section."""

    title: str
    lines: tuple[str, ...] = ()
    action: str = ""
    reach: Reach = Reach()
    members: tuple[tuple[str, Reach], ...] = ()  # a crowd: each person's name and reach


@dataclass(frozen=True)
class Section:
    title: str
    colour: str
    count: int | None  # everyone in the section, listed or not; None: a section not of people
    cards: tuple[Card, ...]
    more: int = 0  # people left out by max_items
    chart: tuple[tuple[str, int], ...] = ()  # a bar chart below the cards: (label, count)
    subject: str = ""  # what the digest's subject says for it ("12 need a date"); "": nothing


CHART_TITLE = "Follow-ups made, week by week"
_BAR = 24  # the longest bar, in characters of the text part


def _counted(section: Section) -> str:
    """ " (3)" after a section's title, the people in it; nothing for a section not of people."""
    return "" if section.count is None else f" ({section.count})"


def _more(section: Section) -> str:
    return (
        f"And {section.more} more {section.title.lower()}, left out to keep this short "
        "(followup status lists everyone)."
    )


def render_text(
    headline: str, summary: str, notices: Sequence[str], sections: list[Section]
) -> str:
    out = [f"{headline}: {summary}", ""]
    out += [f"Note: {one_line(notice)}" for notice in notices]
    if notices:
        out.append("")
    if not sections:
        out += [NOTHING, ""]
    for section in sections:
        out += [section.title.upper() + _counted(section), ""]
        for card in section.cards:
            out.append(one_line(card.title))
            out += [f"  {one_line(line)}" for line in (*card.lines, card.action) if line]
            out += [f"  {link.label}: {one_line(link.shown)}" for link in card.reach.links]
            out += _text_copy(card.reach, "  ")
            for name, reach in card.members:
                links = "; ".join(f"{link.label}: {one_line(link.shown)}" for link in reach.links)
                out.append(f"  {one_line(name)}" + (f" — {links}" if links else ""))
                out += _text_copy(reach, "    ")
            out.append("")
        if section.more:
            out += [_more(section), ""]
        out += _text_chart(section.chart)
    out.append(FOOTER)
    return "\n".join(out) + "\n"


def _text_chart(chart: Sequence[tuple[str, int]]) -> list[str]:
    """The bar chart as text: one line a bar, "#" for the length, the count after it."""
    if not chart:
        return []
    top = max(count for _, count in chart) or 1
    width = max(len(label) for label, _ in chart)
    bars = [
        f"  {label:>{width}}  "
        + "#" * round(_BAR * count / top)
        + (" " if count else "")
        + str(count)
        for label, count in chart
    ]
    return [f"  {CHART_TITLE}:", *bars, ""]


def _html_chart(chart: Sequence[tuple[str, int]]) -> str:
    """The bar chart as nested tables with percentage widths and a background colour: no
    image and no CSS layout, so every mail client (Outlook's too) shows it."""
    if not chart:
        return ""
    top = max(count for _, count in chart) or 1
    small = "font-size:12px;color:#4b5563;padding:2px 8px 2px 0;white-space:nowrap;"
    rows = "".join(
        f'<tr><td style="{small}">{_esc(label)}</td>'
        f'<td style="{small}text-align:right;">{count}</td><td width="100%">'
        + (
            f'<table role="presentation" width="{max(1, round(100 * count / top))}%" '
            'cellpadding="0" cellspacing="0"><tr><td bgcolor="#0f766e" height="12" '
            'style="background:#0f766e;height:12px;font-size:0;line-height:0;">&nbsp;</td>'
            "</tr></table>"
            if count
            else ""
        )
        + "</td></tr>"
        for label, count in chart
    )
    return (
        f'<tr><td style="padding:8px 0;"><div style="font-size:13px;color:#374151;">'
        f"{_esc(CHART_TITLE)}</div>"
        f'<table role="presentation" width="100%" cellpadding="0" cellspacing="0">{rows}'
        "</table></td></tr>"
    )


def _text_copy(reach: Reach, indent: str) -> list[str]:
    if not reach.copy:
        return []
    return [f"{indent}{reach.copy_label}:", *(f"{indent}  {line}".rstrip() for line in reach.copy)]


def _esc(text: str) -> str:
    return html.escape(one_line(text), quote=True)


def render_html(
    headline: str, summary: str, notices: Sequence[str], sections: list[Section]
) -> str:
    """A table-based page with inline styles only: what Gmail and Outlook both render."""
    font = "font-family:Segoe UI,Helvetica,Arial,sans-serif;"
    rows = [
        f'<tr><td style="padding:24px 24px 4px;">'
        f'<h1 style="margin:0;font-size:22px;color:#111827;">{_esc(headline)}</h1>'
        f'<p style="margin:4px 0 0;font-size:15px;color:#4b5563;">{_esc(summary)}</p></td></tr>'
    ]
    rows += [
        f'<tr><td style="padding:12px 24px 0;"><p style="margin:0;padding:8px 12px;'
        f'background:#fef3c7;border-left:4px solid #d97706;font-size:14px;color:#78350f;">'
        f"{_esc(notice)}</p></td></tr>"
        for notice in notices
    ]
    if not sections:
        rows.append(
            f'<tr><td style="padding:16px 24px 0;font-size:15px;color:#111827;">'
            f"{_esc(NOTHING)}</td></tr>"
        )
    rows += [_html_section(section) for section in sections]
    rows.append(
        f'<tr><td style="padding:20px 24px 24px;font-size:12px;color:#6b7280;">'
        f"{_esc(DRAFT_HINT)} {_esc(FOOTER)}</td></tr>"
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_esc(f'{headline}: {summary}')}</title></head>\n"
        '<body style="margin:0;padding:0;background:#f3f4f6;">\n'
        '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" '
        'style="background:#f3f4f6;"><tr><td align="center" style="padding:16px 8px;">\n'
        '<table role="presentation" width="600" cellpadding="0" cellspacing="0" '
        f'style="width:100%;max-width:600px;background:#ffffff;{font}color:#111827;">\n'
        + "\n".join(rows)
        + "\n</table>\n</td></tr></table>\n</body></html>\n"
    )


def _html_section(section: Section) -> str:
    colour = section.colour
    cards = "".join(_html_card(card) for card in section.cards) + _html_chart(section.chart)
    if section.more:
        cards += (
            f'<tr><td style="padding:12px 0;font-size:14px;color:#4b5563;font-style:italic;">'
            f"{_esc(_more(section))}</td></tr>"
        )
    return (
        f'<tr><td style="padding:20px 24px 0;">'
        f'<h2 style="margin:0;padding-bottom:4px;font-size:17px;color:{colour};'
        f'border-bottom:2px solid {colour};">{_esc(section.title)}{_counted(section)}</h2>'
        f'<table role="presentation" width="100%" cellpadding="0" cellspacing="0">{cards}'
        f"</table></td></tr>"
    )


def _html_card(card: Card) -> str:
    small = "font-size:14px;color:#4b5563;"
    parts = [f'<div style="font-size:16px;font-weight:bold;">{_esc(card.title)}</div>']
    parts += [f'<div style="{small}">{_esc(line)}</div>' for line in card.lines]
    if card.action:
        parts.append(f'<div style="margin-top:6px;font-size:14px;">{_esc(card.action)}</div>')
    parts += [f'<div style="{small}">{_html_link(link)}</div>' for link in card.reach.links]
    parts.append(_html_copy(card.reach))
    for name, reach in card.members:
        links = "".join(f" · {_html_link(link)}" for link in reach.links)
        parts.append(
            f'<div style="margin-top:4px;{small}"><b style="color:#111827;">{_esc(name)}</b>'
            f"{links}</div>{_html_copy(reach)}"
        )
    cell = "padding:12px 0;border-bottom:1px solid #e5e7eb;"
    return f'<tr><td style="{cell}">{"".join(parts)}</td></tr>'


def _html_copy(reach: Reach) -> str:
    """The draft to copy, line for line; blank lines keep its paragraphs apart."""
    if not reach.copy:
        return ""
    lines = "<br>".join(html.escape(line, quote=True) for line in reach.copy)
    return (
        '<div style="margin-top:6px;padding:8px 12px;background:#f9fafb;'
        'border-left:3px solid #d1d5db;font-size:14px;color:#374151;">'
        f'<div style="font-size:12px;color:#6b7280;">{_esc(reach.copy_label)}</div>{lines}</div>'
    )


def _html_link(link: Link) -> str:
    shown = _esc(link.shown)
    if link.href:
        shown = f'<a href="{html.escape(link.href, quote=True)}" style="color:#1d4ed8;">{shown}</a>'
    return f"{_esc(link.label)}: {shown}"
