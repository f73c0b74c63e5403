"""The paper's tables, figures and the self-contained HTML report."""
