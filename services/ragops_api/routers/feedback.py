"""Feedback on an answer: thumbs up or down, with an optional comment."""

from __future__ import annotations

from fastapi import APIRouter, Response

from ragops_api.dependencies import QueryDep, TenantDep
from ragops_api.schemas import PROBLEMS, FeedbackRequest

router = APIRouter(tags=["questions"])


@router.post("/api/feedback", status_code=204, responses=PROBLEMS)
async def feedback(body: FeedbackRequest, tenant: TenantDep, query: QueryDep) -> Response:
    await query.add_feedback(tenant, body.answer_id, body.rating, body.comment)
    return Response(status_code=204)
