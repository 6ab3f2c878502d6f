"""Did H4's former reading, exit depth, measure the compute a solution needs, or the halting dynamics?

Trains the penalized early-exit models H4 read until it moved to a fixed-depth family (G9's speed
penalty; quick scale: 16 seeds, 1,500 steps) on the proxy objective a_4 and on the target χ_01, and
reads every exit alone (``instruments.exits.exit_table``): the head's standalone loss and accuracy,
and the share of examples that exit there. Then trains a one-layer model on a_4 alone: the loss a
first exit could reach. If that loss plus one layer's penalty is below what the penalized model pays
at its chosen depth, the model is not at the trade-off the penalty asks for, and its exit depth says
more about training dynamics than about the solution (why H4 no longer reads it).

    python examples/h4_halting_check.py      # about 3 minutes on 2 CPU cores
"""

from dataclasses import replace
from pathlib import Path

import torch

from greedlab.claims import presets, setups
from greedlab.claims.common import get_scale
from greedlab.claims.context import Context
from greedlab.instruments.exits import exit_table
from greedlab.train import logistic_loss, train
from greedlab.worlds import make_world


def penalized(ctx: Context, objective: str):
    """H4's former condition: the early-exit MLP under the speed penalty on the command world (ρ = 0.9,
    oversight cue a_5 in every input)."""
    return ctx.spec(setups.world(rho=0.9, cue=setups.CUE, objective=objective), model=presets.EXIT_MODEL,
                    speed_penalty=presets.SPEED)


def main() -> None:
    ctx = Context(get_scale("quick"), Path("."), None)
    specs = {obj: penalized(ctx, obj) for obj in ("proxy", "target")}
    for obj, spec in specs.items():
        name = f"objective {obj}"
        world = make_world(spec.world)
        params = train(world, spec.model, spec.train, list(spec.init_seeds), list(spec.data_seeds))
        b = world.sample("deploy", 0, 4096)
        t = {k: v.mean(0).tolist() for k, v in exit_table(spec.model, params, b.x, b.y).items()}
        depth = sum((i + 1) * s for i, s in enumerate(t["share"]))
        print(f"{name} (speed penalty {spec.train.speed_penalty:.3f} per layer): mean exit depth {depth:.2f}")
        for i in range(spec.model.depth):
            print(f"  exit {i + 1}: share {t['share'][i]:.3f}   head alone: loss {t['loss'][i]:.4f}, "
                  f"accuracy {t['accuracy'][i]:.3f}")
    spec = specs["proxy"]
    one = replace(spec.model, depth=1)
    world = make_world(spec.world)
    params = train(world, one, replace(spec.train, speed_penalty=0.0), list(spec.init_seeds), list(spec.data_seeds))
    b = world.sample("deploy", 0, 4096)
    with torch.no_grad():
        logits, _ = one.forward(params, b.x)
    print(f"one-layer model trained on a_4 alone: loss {logistic_loss(logits, b.y).mean().item():.4f}, accuracy "
          f"{((torch.sign(logits) == b.y).float().mean().item()):.4f}")


if __name__ == "__main__":
    main()
