"""One street (园山街道) sized like the source articles: 6 communities, ~40 grids, and the
rental houses, shops, enterprises in industrial parks and other places patrolled there,
with the people who act on cases. Deterministic for a given seed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from domain.values import Actor, Department, Party, PartyRole, Place, PlaceKind, Role

STREET = "YS"
COMMUNITIES = {
    "YS-C01": "安良社区", "YS-C02": "保安社区", "YS-C03": "大康社区",
    "YS-C04": "西坑社区", "YS-C05": "荷坳社区", "YS-C06": "银荷社区",
}
GRIDS_PER_COMMUNITY = (7, 7, 6, 7, 6, 7)  # 40 grids
SURNAMES = "陈李张王刘黄吴周徐孙马朱胡郭何高林罗郑梁"
KIND_MIX = [  # (kind, places per grid, name pattern)
    (PlaceKind.RENTAL_HOUSE, 12, "{road}{n}号出租屋"),
    (PlaceKind.SMALL_VENUE, 6, "{surname}记{trade}"),
    (PlaceKind.ENTERPRISE, 3, "{park}工业园{n}栋 {surname}氏实业"),
    (PlaceKind.CROWDED_PLACE, 1, "{road}{n}号商场"),
    (PlaceKind.CONSTRUCTION_SITE, 1, "{road}{n}号零星工程"),
]
ROADS = ["园山路", "安良路", "保安路", "大康路", "西坑路", "荷坳路", "银荷路", "龙岗大道"]
TRADES = ["小食店", "五金店", "电动车行", "理发店", "小作坊", "麻将馆"]
PARKS = ["安良", "大康", "荷坳", "银荷", "西坑"]


@dataclass
class Jurisdiction:
    places: list[Place] = field(default_factory=list)
    grid_workers: dict[str, list[Actor]] = field(default_factory=dict)  # by grid
    safety_officers: dict[str, list[Actor]] = field(default_factory=dict)  # by community
    inspectors: dict[str, list[Actor]] = field(default_factory=dict)  # by community
    supervisors: list[Actor] = field(default_factory=list)
    departments: dict[str, Actor] = field(default_factory=dict)
    readers: list[Actor] = field(default_factory=list)

    def people(self) -> list[Actor]:
        groups = [*self.grid_workers.values(), *self.safety_officers.values(),
                  *self.inspectors.values(), self.supervisors,
                  list(self.departments.values()), self.readers]
        return [actor for group in groups for actor in group]


def build(seed: int) -> Jurisdiction:
    rng = random.Random(seed)
    j = Jurisdiction()
    for (community, _), grids in zip(COMMUNITIES.items(), GRIDS_PER_COMMUNITY):
        c = community.rsplit("-", 1)[1].lower()
        j.safety_officers[community] = [
            Actor(f"so-{c}-{i}", Role.SAFETY_OFFICER, community) for i in (1, 2)]
        j.inspectors[community] = [Actor(f"in-{c}-{i}", Role.INSPECTOR, community) for i in (1, 2)]
        for g in range(1, grids + 1):
            grid = f"{community}-G{g:02d}"
            tag = f"{c}g{g:02d}"
            j.grid_workers[grid] = [
                Actor(f"gw-{tag}", Role.GRID_WORKER, grid),
                Actor(f"vol-{tag}", Role.VOLUNTEER, grid),
                Actor(f"ps-{tag}", Role.PROPERTY_STAFF, grid),
            ]
            j.places.extend(_places(rng, grid, community, len(j.places)))
    j.supervisors = [Actor(f"sup-ys-{i}", Role.STREET_SUPERVISOR, STREET) for i in (1, 2)]
    j.departments = {d.value: Actor(f"dept-{d.value}", Role.DEPARTMENT_OFFICER, d.value)
                     for d in Department}
    j.readers = [Actor("leader-ys", Role.LEADER, STREET),
                 Actor("auditor-ys", Role.AUDITOR, STREET),
                 Actor("admin-ys", Role.ADMIN, STREET)]
    return j


def _places(rng: random.Random, grid: str, community: str, offset: int) -> list[Place]:
    places: list[Place] = []
    for kind, count, pattern in KIND_MIX:
        for _ in range(count):
            n = offset + len(places) + 1
            name = pattern.format(road=rng.choice(ROADS), n=rng.randint(1, 300),
                                  surname=rng.choice(SURNAMES), trade=rng.choice(TRADES),
                                  park=rng.choice(PARKS))
            places.append(Place(f"PL-{n:05d}", name, kind, f"{rng.choice(ROADS)}"
                                f"{rng.randint(1, 300)}号", grid, community))
    return places


def party_for(rng: random.Random, place: Place) -> Party:
    role = {PlaceKind.RENTAL_HOUSE: PartyRole.LANDLORD, PlaceKind.SMALL_VENUE: PartyRole.TENANT,
            PlaceKind.CROWDED_PLACE: PartyRole.MANAGER}.get(place.kind, PartyRole.OWNER)
    name = f"{rng.choice(SURNAMES)}{'先生' if rng.random() < 0.6 else '女士'}"
    return Party(name, role, f"1{rng.randint(3, 9)}{rng.randint(0, 999999999):09d}")
