"""The running experiment over HTTP (`/admin/experiment`), and RECSYS_EXPERIMENTS_FILE at start.

The experiment lives in the catalog (recsys/serving/experiments.py), so a change made here reaches
every worker and replica through the change feed; this worker applies it to its live state before
it answers, like the pins and blocks (service/admin.py).
"""

from __future__ import annotations

import asyncio
import logging

from fastapi import APIRouter, Request

from recsys.root import Root
from recsys.serving.experiments import (
    Experiment,
    experiment_from_file,
    parse_experiment,
    store_experiment,
    stored_experiment,
)
from service.auth import AdminKey
from service.deps import state_of
from service.schemas import ErrorBody, ExperimentBody, ExperimentResponse

log = logging.getLogger(__name__)

router = APIRouter(
    prefix="/admin",
    tags=["admin"],
    dependencies=[AdminKey],
    responses={401: {"model": ErrorBody}, 403: {"model": ErrorBody}, 422: {"model": ErrorBody}},
)


def _response(experiment: Experiment | None) -> ExperimentResponse:
    body = None if experiment is None else ExperimentBody.model_validate(experiment.to_dict())
    return ExperimentResponse(experiment=body)


@router.get("/experiment", response_model=ExperimentResponse, summary="The running experiment")
def get_experiment(request: Request) -> ExperimentResponse:
    return _response(stored_experiment(state_of(request).root.catalog))


@router.put(
    "/experiment",
    response_model=ExperimentResponse,
    summary="Start an experiment, replacing the running one (docs/experiments.md)",
)
def put_experiment(request: Request, body: ExperimentBody) -> ExperimentResponse:
    experiment = parse_experiment(body.model_dump(exclude_none=True))
    state = state_of(request)
    store_experiment(state.root.catalog, experiment)
    state.refresh_live()
    return _response(experiment)


@router.delete("/experiment", response_model=ExperimentResponse, summary="Stop the running experiment")
def delete_experiment(request: Request) -> ExperimentResponse:
    state = state_of(request)
    store_experiment(state.root.catalog, None)
    state.refresh_live()
    return _response(None)


async def apply_experiments_file(root: Root) -> None:
    """RECSYS_EXPERIMENTS_FILE, when set, becomes the running experiment before anything is served (a
    file that cannot be read or is not valid stops the start: ConfigError). Every worker does it;
    storing the same experiment again changes nothing."""
    path = root.settings.experiments_file
    if path is None:
        return
    experiment = experiment_from_file(path)

    def store() -> bool:
        try:
            return store_experiment(root.catalog, experiment)
        finally:
            root.catalog.close()  # this thread's connection

    if await asyncio.to_thread(store):
        log.info("experiment from %s: %s", path, experiment.name if experiment else "none (stopped)")
