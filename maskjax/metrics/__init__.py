"""Metrics: one-shot functions and streaming metric objects.

Each metric family lives in one private module named after what it computes, holding the
one-shot functions, their streaming classes and the formulas (see CONVENTIONS.md, "Where things
live"). Re-exported here one name a line.
"""

from maskjax.metrics._stat_scores import stat_scores
from maskjax.metrics._stat_scores import confusion_matrix
from maskjax.metrics._stat_scores import StatScores
from maskjax.metrics._stat_scores import ConfusionMatrix
from maskjax.metrics._accuracy import accuracy
from maskjax.metrics._accuracy import balanced_accuracy
from maskjax.metrics._accuracy import hamming_distance
from maskjax.metrics._accuracy import exact_match
from maskjax.metrics._accuracy import top_k_accuracy
from maskjax.metrics._accuracy import Accuracy
from maskjax.metrics._accuracy import BalancedAccuracy
from maskjax.metrics._accuracy import HammingDistance
from maskjax.metrics._accuracy import ExactMatch
from maskjax.metrics._precision_recall import precision
from maskjax.metrics._precision_recall import recall
from maskjax.metrics._precision_recall import specificity
from maskjax.metrics._precision_recall import Precision
from maskjax.metrics._precision_recall import Recall
from maskjax.metrics._precision_recall import Specificity
from maskjax.metrics._f_beta import f1_score
from maskjax.metrics._f_beta import fbeta_score
from maskjax.metrics._f_beta import dice_score
from maskjax.metrics._f_beta import jaccard_index
from maskjax.metrics._f_beta import F1Score
from maskjax.metrics._f_beta import FBetaScore
from maskjax.metrics._f_beta import DiceScore
from maskjax.metrics._f_beta import JaccardIndex
from maskjax.metrics._agreement import matthews_corrcoef
from maskjax.metrics._agreement import cohen_kappa
from maskjax.metrics._agreement import MatthewsCorrCoef
from maskjax.metrics._agreement import CohenKappa
from maskjax.metrics._ranking import precision_at_k
from maskjax.metrics._ranking import recall_at_k
from maskjax.metrics._ranking import PrecisionAtK
from maskjax.metrics._ranking import RecallAtK
from maskjax.metrics.curves._roc import roc_curve
from maskjax.metrics.curves._precision_recall_curve import precision_recall_curve
from maskjax.metrics.curves._roc import auroc
from maskjax.metrics.curves._precision_recall_curve import average_precision
from maskjax.metrics.curves._best_threshold import best_threshold
from maskjax.metrics.curves._calibration import calibration_error
from maskjax.metrics.curves._calibration import reliability_diagram
from maskjax.metrics.curves._common import RocCurve
from maskjax.metrics.curves._common import PrecisionRecallCurve
from maskjax.metrics.curves._roc import AUROC
from maskjax.metrics.curves._precision_recall_curve import AveragePrecision
from maskjax.metrics.curves._roc import ROC
from maskjax.metrics.curves._precision_recall_curve import PRCurve
from maskjax.metrics.curves._calibration import CalibrationError
from maskjax.metrics.curves._equal_error_rate import equal_error_rate
from maskjax.metrics.curves._equal_error_rate import EqualErrorRate
from maskjax.metrics._generalized_dice import generalized_dice_score
from maskjax.metrics._generalized_dice import GeneralizedDiceScore
from maskjax.metrics._streaming import Metric
from maskjax.metrics._streaming import Mean
from maskjax.metrics._streaming import Sum
from maskjax.metrics._streaming import Collection
from maskjax.metrics._state_merge import HostAccumulator
from maskjax.metrics._state_merge import psum_state
from maskjax.metrics._state_merge import merge_across_processes

__all__ = [
    "stat_scores",
    "confusion_matrix",
    "StatScores",
    "ConfusionMatrix",
    "accuracy",
    "balanced_accuracy",
    "hamming_distance",
    "exact_match",
    "top_k_accuracy",
    "Accuracy",
    "BalancedAccuracy",
    "HammingDistance",
    "ExactMatch",
    "precision",
    "recall",
    "specificity",
    "Precision",
    "Recall",
    "Specificity",
    "f1_score",
    "fbeta_score",
    "dice_score",
    "jaccard_index",
    "F1Score",
    "FBetaScore",
    "DiceScore",
    "JaccardIndex",
    "matthews_corrcoef",
    "cohen_kappa",
    "MatthewsCorrCoef",
    "CohenKappa",
    "precision_at_k",
    "recall_at_k",
    "PrecisionAtK",
    "RecallAtK",
    "roc_curve",
    "precision_recall_curve",
    "auroc",
    "average_precision",
    "best_threshold",
    "calibration_error",
    "reliability_diagram",
    "RocCurve",
    "PrecisionRecallCurve",
    "AUROC",
    "AveragePrecision",
    "ROC",
    "PRCurve",
    "CalibrationError",
    "equal_error_rate",
    "EqualErrorRate",
    "generalized_dice_score",
    "GeneralizedDiceScore",
    "Metric",
    "Mean",
    "Sum",
    "Collection",
    "HostAccumulator",
    "psum_state",
    "merge_across_processes", "Grouped", "Bootstrap",
]
from maskjax.metrics.grouped import Grouped
from maskjax.metrics.bootstrap import Bootstrap
