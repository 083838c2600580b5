"""Dispatch a board to the renderer for ``markdown``, ``latex``, ``csv`` or ``html``."""

from __future__ import annotations

from leaderboard.board import Board
from leaderboard.errors import LeaderboardError
from leaderboard.formatting import CI_STYLES

FORMATS = ("markdown", "latex", "csv", "html")


def render(board: Board, fmt: str = "markdown", ci_style: str = "pm", with_plots: bool = True) -> str:
    """The board as text in ``fmt``; HTML embeds the comparison and per-metric plots."""
    if ci_style not in CI_STYLES:
        raise LeaderboardError(f"unknown CI style {ci_style!r}", hint=f"choose one of {', '.join(CI_STYLES)}")
    if fmt == "markdown":
        from leaderboard.render_markdown import render_markdown

        return render_markdown(board, ci_style)
    if fmt == "latex":
        from leaderboard.render_latex import render_latex

        return render_latex(board, ci_style)
    if fmt == "csv":
        from leaderboard.render_csv import render_csv

        return render_csv(board, ci_style)
    if fmt == "html":
        from leaderboard.render_html import render_html

        return render_html(board, ci_style)  # its charts are inline SVG (``with_plots`` is for the files)
    raise LeaderboardError(f"unknown format {fmt!r}", hint=f"choose one of {', '.join(FORMATS)}")
