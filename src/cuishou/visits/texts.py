"""The visit pages' labels (zh, en), merged into the one catalogue (``web.i18n``)."""

from __future__ import annotations

from cuishou.visits.rules import OUTCOMES, RELATIONS, SOURCES, STATUSES

LABELS: dict[str, tuple[str, str]] = {
    "nav.visits": ("外访", "Field visits"),
    "visits.title": ("外访排期", "Field visit scheduling"),
    "visits.hint": (
        "外访须两人同行（CN-14），在债务人当地时间 08:00–20:00 之间；每次排期都经合规闸门判定。",
        "Two collectors go on every visit (CN-14), between 08:00 and 20:00 in the debtor's "
        "local time; the compliance gate judges every schedule.",
    ),
    "visits.requested": ("待排期", "Requested"),
    "visits.scheduled": ("已排期", "Scheduled"),
    "visits.none": ("暂无外访", "No visits"),
    "visits.case": ("案件", "Case"),
    "visits.address": ("地址", "Address"),
    "visits.district": ("区县", "District"),
    "visits.source": ("来源", "Source"),
    "visits.reason": ("原因", "Reason"),
    "visits.day": ("日期", "Day"),
    "visits.start": ("开始", "From"),
    "visits.end": ("结束", "To"),
    "visits.window": ("时段", "Window"),
    "visits.collectors": ("外访人员", "Collectors"),
    "visits.schedule": ("排期", "Schedule"),
    "visits.request": ("申请外访", "Request a visit"),
    "visits.request_case": ("案件编号", "Case id"),
    "visits.routes": ("外访路线", "Visit routes"),
    "visits.route_hint": (
        "按区县中心点坐标由 OR-Tools 求解的当日路线；时段能全部满足时保留时段。",
        "The day's route per team, solved by OR-Tools over district centroids; windows are "
        "kept when they all fit.",
    ),
    "visits.plan_routes": ("规划路线", "Plan the routes"),
    "visits.order": ("顺序", "Order"),
    "visits.length": ("路线长度", "Route length"),
    "visits.unordered": ("未排序长度", "Unordered length"),
    "visits.windows_kept": ("时段均满足", "All windows kept"),
    "visits.windows_dropped": (
        "时段无法全部满足，按最短路线排序",
        "Windows could not all be kept; shortest route",
    ),
    "visits.unlocated": ("无法定位的外访", "Visits not located"),
    "visits.no_routes": ("当日没有已排期的外访", "No scheduled visits that day"),
    "visits.visit": ("外访", "Visit"),
    "visits.status": ("状态", "Status"),
    "visits.record": ("走访记录表", "Visit record"),
    "visits.visited_at": ("走访时间", "Visited at"),
    "visits.check_in": ("签到坐标（纬度, 经度）", "Check-in (latitude, longitude)"),
    "visits.lat": ("纬度", "Latitude"),
    "visits.lon": ("经度", "Longitude"),
    "visits.outcome": ("走访结果", "Outcome"),
    "visits.persons_met": ("接触人员及关系", "Persons met and relation"),
    "visits.person_name": ("姓名", "Name"),
    "visits.relation": ("关系", "Relation"),
    "visits.notes": ("走访情况", "Notes"),
    "visits.promise_amount": ("承诺金额（元）", "Promised amount (yuan)"),
    "visits.promise_date": ("承诺日期", "Promised by"),
    "visits.save_record": ("提交走访记录", "Save the record"),
    "visits.cancel": ("取消外访", "Cancel the visit"),
    "visits.import_plan": ("导入策略外访", "Import the strategy's visits"),
    "visits.imported": (
        "{day}：新建 {created} 个外访申请，已有 {already} 个，"
        "跳过 {skipped} 个（被闸门拦截或无地址）。",
        "{day}: {created} visit requests created, {already} already there, {skipped} skipped "
        "(dropped by the gate or without an address).",
    ),
    "visits.cancel_reason": ("取消原因", "Reason"),
    "visits.files": ("照片与文件", "Photos and documents"),
    "visits.upload": ("上传", "Upload"),
    "visits.no_files": ("暂无文件", "No files"),
    "visits.recorded_by": ("记录人", "Recorded by"),
    "visits.contact": ("催记", "Contact"),
    "visits.recorded": ("已记录", "Recorded"),
    "visits.mine": ("我的外访", "My visits"),
    "visits.open": ("打开", "Open"),
    "visits.gate_refused": ("合规闸门拒绝", "Refused by the compliance gate"),
    # the case timeline's labels of the visit events
    "event.visit.requested": ("申请外访", "Visit requested"),
    "event.visit.scheduled": ("外访已排期", "Visit scheduled"),
    "event.visit.routed": ("外访路线已规划", "Visit route planned"),
    "event.visit.recorded": ("填写走访记录", "Visit recorded"),
    "event.visit.cancelled": ("外访已取消", "Visit cancelled"),
    "event.visit.file_added": ("上传走访照片/文件", "Visit photo or document added"),
}
for _code, (_zh, _en) in STATUSES.items():
    LABELS[f"visit_status.{_code}"] = (_zh, _en)
for _code, (_zh, _en) in SOURCES.items():
    LABELS[f"visit_source.{_code}"] = (_zh, _en)
for _code, (_zh, _en) in OUTCOMES.items():
    LABELS[f"visit_outcome.{_code}"] = (_zh, _en)
for _code, (_zh, _en) in RELATIONS.items():
    LABELS[f"visit_relation.{_code}"] = (_zh, _en)
