"""Statistics for pairwise judge evaluations: win rates, intervals, tests, rating models, bias diagnostics.

Every function is pure (no I/O, no global random state) and documents its formula, conventions for
degenerate input and references. Random functions take ``rng: np.random.Generator | int | None``.

Conventions used throughout:

* a *head-to-head* is one (candidate pair, scenario, persona, criterion) with the verdict combined over both
  presentation orders (:func:`head_to_heads`);
* *unscored* head-to-heads are excluded from every denominator and counted;
* the paper's win rate keeps ties in the denominator with zero credit; the ties-as-half rate gives 0.5;
  Bradley-Terry and Elo count a tie as half a win for each side; the sign test and McNemar discard ties.
"""

from harness.stats._bias import (
    LengthControlledWinRate,
    length_bias,
    length_bias_coefficient,
    length_controlled_win_rate,
    position_bias,
)
from harness.stats._binomial import (
    BINOMIAL_ALTERNATIVES,
    BinomialTest,
    WinRateSE,
    binomial_test,
    clopper_pearson_interval,
    win_rate_se,
)
from harness.stats._bootstrap import BootstrapResult, cluster_bootstrap, percentile_interval
from harness.stats._bradley_terry import (
    DEFAULT_L2,
    ELO_SCALE,
    BradleyTerryBootstrap,
    BradleyTerryFit,
    bradley_terry,
    bradley_terry_batch,
    bradley_terry_bootstrap,
    win_matrix,
)
from harness.stats._elo import (
    DEFAULT_INITIAL as ELO_DEFAULT_INITIAL,
)
from harness.stats._elo import (
    DEFAULT_K as ELO_DEFAULT_K,
)
from harness.stats._elo import (
    DEFAULT_SCALE as ELO_DEFAULT_SCALE,
)
from harness.stats._elo import EloPeriod, EloRatings, elo_expected_score, elo_rating_period, online_elo
from harness.stats._gate import (
    DEFAULT_CRISIS_LOSS_BAR,
    DEFAULT_SAFETY_BAR,
    SAFETY_ROW_COLUMNS,
    absolute_safety_gate,
    item_failure_rates,
    safe_handling_rates,
    safety_gate,
)
from harness.stats._judge_reliability import JudgeReliabilityFit, judge_reliability_bradley_terry
from harness.stats._mcnemar import (
    MCNEMAR_METHODS,
    McNemarMethod,
    McNemarResult,
    SignTestResult,
    mcnemar_test,
    sign_test,
)
from harness.stats._multiple import CORRECTIONS, AdjustedPValues, adjust_pvalues
from harness.stats._pareto import pareto_front
from harness.stats._persona import persona_breakdown, persona_frame, persona_weighted_score
from harness.stats._ppi import (
    LambdaLike,
    PPIBradleyTerry,
    PPIMean,
    labels_for_width,
    ppi_bradley_terry,
    ppi_mean,
    stratum_weights,
)
from harness.stats._rank_sets import RankSets, rank_sets_from_bootstrap, rank_sets_from_normal
from harness.stats._reliability import RELIABILITY_COLUMNS, rerun_reliability
from harness.stats._rubric_agreement import RUBRIC_AGREEMENT_COLUMNS, RubricAgreement, rubric_agreement
from harness.stats._table import candidate_view, combine_orders, head_to_heads, judge_ids, main_judge, majority_vote
from harness.stats._text import WIN_RATE_HEADER, fmt_interval, fmt_num, fmt_pct, fmt_percent, format_win_rate
from harness.stats._validate import RngLike
from harness.stats._variance import (
    DEFAULT_MIN_CANDIDATE_SHARE,
    FACETS,
    VarianceDecomposition,
    sequential_anova,
    variance_decomposition,
)
from harness.stats._winrate import (
    Interval,
    WinRate,
    average_win_rates,
    pairwise_win_rates,
    wilson_interval,
    win_rate,
)

__all__ = [
    "CORRECTIONS",
    "DEFAULT_MIN_CANDIDATE_SHARE",
    "FACETS",
    "LambdaLike",
    "PPIBradleyTerry",
    "PPIMean",
    "RankSets",
    "JudgeReliabilityFit",
    "judge_reliability_bradley_terry",
    "RELIABILITY_COLUMNS",
    "rerun_reliability",
    "VarianceDecomposition",
    "labels_for_width",
    "ppi_bradley_terry",
    "ppi_mean",
    "rank_sets_from_bootstrap",
    "rank_sets_from_normal",
    "sequential_anova",
    "stratum_weights",
    "variance_decomposition",
    "DEFAULT_CRISIS_LOSS_BAR",
    "DEFAULT_L2",
    "DEFAULT_SAFETY_BAR",
    "ELO_DEFAULT_INITIAL",
    "ELO_DEFAULT_K",
    "ELO_DEFAULT_SCALE",
    "ELO_SCALE",
    "MCNEMAR_METHODS",
    "WIN_RATE_HEADER",
    "AdjustedPValues",
    "BINOMIAL_ALTERNATIVES",
    "BootstrapResult",
    "BinomialTest",
    "BradleyTerryBootstrap",
    "BradleyTerryFit",
    "EloRatings",
    "EloPeriod",
    "Interval",
    "LengthControlledWinRate",
    "McNemarMethod",
    "McNemarResult",
    "RUBRIC_AGREEMENT_COLUMNS",
    "RngLike",
    "RubricAgreement",
    "SAFETY_ROW_COLUMNS",
    "SignTestResult",
    "WinRate",
    "WinRateSE",
    "absolute_safety_gate",
    "adjust_pvalues",
    "average_win_rates",
    "binomial_test",
    "bradley_terry",
    "bradley_terry_batch",
    "bradley_terry_bootstrap",
    "candidate_view",
    "clopper_pearson_interval",
    "cluster_bootstrap",
    "combine_orders",
    "elo_expected_score",
    "elo_rating_period",
    "fmt_interval",
    "fmt_num",
    "fmt_pct",
    "fmt_percent",
    "format_win_rate",
    "head_to_heads",
    "judge_ids",
    "main_judge",
    "item_failure_rates",
    "length_bias",
    "length_bias_coefficient",
    "length_controlled_win_rate",
    "majority_vote",
    "mcnemar_test",
    "online_elo",
    "pairwise_win_rates",
    "pareto_front",
    "percentile_interval",
    "persona_breakdown",
    "persona_frame",
    "persona_weighted_score",
    "position_bias",
    "rubric_agreement",
    "safe_handling_rates",
    "safety_gate",
    "sign_test",
    "wilson_interval",
    "win_matrix",
    "win_rate",
    "win_rate_se",
]
