"""Results files and published paper tables → leaderboard tables, plots, an HTML page and a CI gate.

Main entry points:

- :func:`leaderboard.paper_tables.load_paper_table` / :func:`~leaderboard.paper_tables.list_paper_tables`
- :func:`leaderboard.derived_check.check_derived_columns`, :func:`leaderboard.cross_check.all_cross_checks`
- :func:`leaderboard.paper_notes.describe_paper_board` (what each paper column is, under the table)
- :func:`leaderboard.board.board_from_results`, :func:`leaderboard.board.board_from_paper`,
  :func:`leaderboard.board.add_measured_rows`
- renderers :func:`leaderboard.render.render` (``markdown``/``latex``/``csv``/``html``)
- :func:`leaderboard.compare.compare_results`
"""
