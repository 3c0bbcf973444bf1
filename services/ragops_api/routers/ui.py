"""What the chat page asks before its first call (the page itself: static_ui.py)."""

from __future__ import annotations

from fastapi import APIRouter

from ragops_api.dependencies import SettingsDep
from ragops_api.schemas import UiAuth, UiConfig
from ragops_core.settings import Settings

router = APIRouter(tags=["ui"])


def ui_auth(settings: Settings) -> UiAuth | None:
    """The page signs in only where the API checks tokens and a hosted UI is configured."""
    if not (settings.auth_jwks_url and settings.ui_oidc_domain and settings.ui_oidc_client_id):
        return None
    return UiAuth(
        domain=settings.ui_oidc_domain,
        client_id=settings.ui_oidc_client_id,
        scopes=settings.ui_oidc_scopes,
        redirect_path=settings.ui_oidc_redirect_path,
        token=settings.ui_oidc_token,
    )


@router.get("/api/ui-config", response_model=UiConfig)
async def ui_config(settings: SettingsDep) -> UiConfig:
    """What the chat page needs before its first call: whether, and where, to sign in. Needs no token."""  # noqa: E501 - the OpenAPI description
    return UiConfig(auth=ui_auth(settings))
