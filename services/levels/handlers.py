"""Level management handlers: parse, decide with the rules, store, emit."""

from eventkit.consumer import Handlers, UnitOfWork
from schemas.events.levels import ScreeningDue
from schemas.events.registry import CategoryAssigned
from services.levels import rules
from services.levels.storage import LevelStore

handlers = Handlers()


@handlers.on(CategoryAssigned)
async def category_assigned(data: CategoryAssigned, work: UnitOfWork) -> None:
    store = LevelStore(work.session)
    state = rules.on_categorised(await store.current(data.platform_id))
    if state is None:
        await store.set_category(data.platform_id, data.category)
        return
    await store.open_case(data.platform_id, data.category, state, data.effective_date)
    await work.emit(
        ScreeningDue(
            platform_id=data.platform_id,
            category=data.category,
            level=state.level,
            status="pending-screening",
            since=data.effective_date,
        ),
        key=data.platform_id,
    )
