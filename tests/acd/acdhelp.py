"""A small two-skill ACD configuration shared by the ACD's property tests."""

from __future__ import annotations

from ccsim.acd import ACDConfig, QueueConfig
from ccsim.routing import script as sc


def two_skill_config(overflow_above: int = 6) -> ACDConfig:
    """General and VIP queues; scripts add the other skill after a wait, general overflows
    when more than ``overflow_above`` calls wait; VIP calls have wrap-up; RONA after two misses.
    """
    return ACDConfig(
        queues={"gen": QueueConfig(name="gen"), "vip": QueueConfig(name="vip")},
        scripts={
            "main": (
                sc.Overflow("elsewhere", when=sc.QueueLengthAbove("gen", overflow_above)),
                sc.QueueTo("gen"),
                sc.Wait(20),
                sc.QueueTo("vip"),
            ),
            "vip": (sc.QueueTo("vip", priority=5), sc.Wait(15), sc.QueueTo("gen", priority=5)),
        },
        service_routing={"general": "main", "gold": "vip"},
        wrap_up={"gold": 5.0},
        default_wrap_up=0.0,
        ring_timeout=8.0,
        rona_threshold=2,
    )
