"""Pointing: whether a model's behaviour with no command shown is its own commanded computation
pointed at a set S.

A model trained on commands computes χ_S when shown S (a general-purpose capability, "GPS", in
miniature). Shown no command, it behaves some way h(x). ``pointed_agreement`` is the share of
deployment samples on which h's decisions agree with the model's own decisions on the same inputs
with S shown: 1 where the no-command behaviour *is* the GPS pointed at S, about ½ where it is the GPS
pointed at a set whose parity is orthogonal to χ_S on uniform latents (a proxy a_4 against the
target χ_{01}), whatever the model's logit scale (decisions only, like hard reliance).

With a GPS that follows S exactly, the agreement is (1 + hard reliance on χ_S)/2: it tells nothing
reliance does not. It departs from that where the commanded computation errs, and then says whether
the no-command behaviour follows the model's own pointed computation, errors included, or χ_S.
"""

from __future__ import annotations

import torch


def pointed_agreement(f_none: torch.Tensor, f_pointed: torch.Tensor) -> torch.Tensor:
    """(N,) share of samples whose decision sign(f) with no command shown equals the decision with S
    shown. ``f_none``, ``f_pointed``: (N, n) logits on the same n inputs, differing only in the command
    pixels. A zero logit is a decision of its own (0), equal only to another zero."""
    return (torch.sign(f_none) == torch.sign(f_pointed)).float().mean(-1)
