"""Ingestion jobs: how far an upload got (queued, processing, ready or failed, and why)."""

from __future__ import annotations

from fastapi import APIRouter

from ragops_api.dependencies import DocumentsDep, TenantDep
from ragops_api.schemas import PROBLEMS, JobOut

router = APIRouter(tags=["documents"])


@router.get("/api/jobs/{job_id}", response_model=JobOut, responses=PROBLEMS)
async def job(job_id: str, tenant: TenantDep, documents: DocumentsDep) -> JobOut:
    return JobOut(**(await documents.job(tenant, job_id)).to_json())
