"""Typed dependencies: how an endpoint gets the service state, the settings, the served recommender
and the overrides store, instead of reading `request.app.state` itself."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from recsys.overrides import Overrides
from recsys.recommend import Recommender
from recsys.settings import Settings
from service.state import ServiceState


def get_state(request: Request) -> ServiceState:
    state: ServiceState = request.app.state.recsys
    return state


def get_settings(state: State) -> Settings:
    return state.settings


def get_recommender(state: State) -> Recommender:
    return state.serving()


def get_overrides(state: State) -> Overrides:
    return Overrides(state.query_side.catalog)


State = Annotated[ServiceState, Depends(get_state)]
CurrentSettings = Annotated[Settings, Depends(get_settings)]
Current = Annotated[Recommender, Depends(get_recommender)]
OverridesStore = Annotated[Overrides, Depends(get_overrides)]
