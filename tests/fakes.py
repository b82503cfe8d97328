"""In-memory fakes of our own ports, for unit tests."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from cloud.domain.keys import ApiKey
from cloud.domain.links import TrackingLink
from cloud.domain.machines import Machine
from cloud.domain.orders import Order, Stage
from cloud.service.ports import AlreadyExistsError, ConflictError, Store


class MemoryStore(Store):
    """The Store port in memory, with the same version checks as the DynamoDB adapter."""

    def __init__(self) -> None:
        self.machines: dict[str, Machine] = {}
        self.stages: dict[tuple[str, str], Stage] = {}
        self.orders: dict[str, tuple[Order, str]] = {}
        self.closed: set[str] = set()
        self.tokens: dict[str, str] = {}
        self.quarantined: list[tuple[str, str, str]] = []
        self.keys: dict[str, ApiKey] = {}
        self.agents: dict[str, bool] = {}

    def _check(self, current: object, version: int) -> None:
        have = getattr(current, "version", 0) if current is not None else 0
        if have != version:
            raise ConflictError(f"version {version} is stale (now {have})")

    def get_machine(self, key: str) -> Machine | None:
        return self.machines.get(key)

    def get_stage(self, order_no: str, code: str) -> Stage | None:
        return self.stages.get((order_no, code))

    def save_machine(self, machine: Machine, stage: Stage | None = None) -> None:
        self._check(self.machines.get(machine.key), machine.version)
        if stage is not None:
            self._check(self.stages.get((stage.order_no, stage.code)), stage.version)
            self.stages[(stage.order_no, stage.code)] = replace(stage, version=stage.version + 1)
        self.machines[machine.key] = replace(machine, version=machine.version + 1)

    def save_stage(self, stage: Stage) -> None:
        self._check(self.stages.get((stage.order_no, stage.code)), stage.version)
        self.stages[(stage.order_no, stage.code)] = replace(stage, version=stage.version + 1)

    def assign(self, machine: Machine, stage: Stage) -> None:
        self.save_machine(machine, stage)

    def create_order(self, order: Order, stages: list[Stage], link: TrackingLink) -> None:
        if order.order_no in self.orders:
            raise AlreadyExistsError(order.order_no)
        self.orders[order.order_no] = (replace(order, version=1), link.token)
        self.tokens[link.token] = order.order_no
        for stage in stages:
            self.stages[(order.order_no, stage.code)] = replace(stage, version=1)

    def save_order(self, order: Order, stages: list[Stage]) -> None:
        current, token = self.orders[order.order_no]
        self._check(current, order.version)
        for stage in stages:
            self._check(self.stages.get((stage.order_no, stage.code)), stage.version)
        self.orders[order.order_no] = (replace(order, version=order.version + 1), token)
        self.closed.discard(order.order_no)
        for stage in stages:
            self.stages[(stage.order_no, stage.code)] = replace(stage, version=stage.version + 1)

    def get_order(self, order_no: str) -> tuple[Order, list[Stage]] | None:
        if order_no not in self.orders:
            return None
        stages = [s for (o, _), s in self.stages.items() if o == order_no]
        return self.orders[order_no][0], stages

    def list_machines(self) -> list[Machine]:
        return sorted(self.machines.values(), key=lambda m: m.key)

    def list_orders(self, open_only: bool = False) -> list[Order]:
        found = (
            o for o, _ in self.orders.values() if not open_only or o.order_no not in self.closed
        )
        return sorted(found, key=lambda o: (o.due, o.order_no))

    def close_order(self, order_no: str) -> None:
        if order_no in self.orders:
            self.closed.add(order_no)

    def first_token(self, order_no: str) -> str | None:
        found = self.orders.get(order_no)
        return found[1] if found else None

    def order_for_token(self, token: str) -> str | None:
        return self.tokens.get(token)

    def quarantine(self, reason: str, body: str, message_id: str) -> None:
        self.quarantined.append((reason, body, message_id))

    def put_api_key(self, key: ApiKey) -> None:
        self.keys[key.digest] = key

    def get_api_key(self, digest: str) -> ApiKey | None:
        return self.keys.get(digest)

    def put_agent(self, key: str, online: bool, at: datetime) -> None:
        self.agents[key] = online

    def offline_agents(self) -> set[str]:
        return {key for key, online in self.agents.items() if not online}
