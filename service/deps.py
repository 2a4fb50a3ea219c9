"""Typed dependencies: the service state, settings, served recommender and overrides of a request.

An endpoint gets them here instead of reading `request.app.state` itself.

They are `async def` on purpose: FastAPI runs a plain-function dependency in its thread pool, and
four thread hops per request cost more than the ranking (measured with py-spy under wrk).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from recsys.catalog.overrides import Overrides
from recsys.serving.recommend import Recommender
from service.state import ServiceState


def state_of(request: Request) -> ServiceState:
    state: ServiceState = request.app.state.recsys
    return state


async def get_state(request: Request) -> ServiceState:
    return state_of(request)


State = Annotated[ServiceState, Depends(get_state)]


async def get_recommender(state: State) -> Recommender:
    return state.serving()


def overrides_of(state: ServiceState) -> Overrides:
    return state.root.overrides


Current = Annotated[Recommender, Depends(get_recommender)]
