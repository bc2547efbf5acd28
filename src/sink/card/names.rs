//! The names a card shows for each label: Chinese for the agents, Chatwoot's own for its
//! priority field.

use crate::domain::{Demand, IssueType, Mood, Priority, Threat};

pub fn issue_zh(i: IssueType) -> &'static str {
    match i {
        IssueType::Quality => "质量问题",
        IssueType::Damaged => "商品破损",
        IssueType::WrongItem => "发错货",
        IssueType::NotAsDescribed => "与描述不符",
        IssueType::ShippingDelay => "发货延迟",
        IssueType::Logistics => "物流问题",
        IssueType::Service => "服务态度",
        IssueType::Price => "价格问题",
        IssueType::AfterSales => "售后问题",
        IssueType::Other => "其他",
    }
}

pub fn demand_zh(d: Demand) -> &'static str {
    match d {
        Demand::Refund => "退款",
        Demand::ReturnRefund => "退货退款",
        Demand::Exchange => "换货",
        Demand::Reship => "补发",
        Demand::Compensation => "赔偿",
        Demand::Repair => "维修",
        Demand::Expedite => "催发货",
        Demand::Explanation => "要求解释",
        Demand::Cancel => "取消订单",
    }
}

pub fn mood_zh(m: Mood) -> &'static str {
    match m {
        Mood::Calm => "平静",
        Mood::Anxious => "焦急",
        Mood::Disappointed => "失望",
        Mood::Angry => "愤怒",
    }
}

pub fn threat_zh(t: Threat) -> &'static str {
    match t {
        Threat::BadReview => "差评",
        Threat::Platform => "平台投诉",
        Threat::Regulator => "投诉监管部门",
        Threat::Legal => "法律途径",
        Threat::Media => "媒体曝光",
    }
}

/// Chatwoot's priority for ours.
pub fn chatwoot_priority(p: Priority) -> &'static str {
    match p {
        Priority::P1 => "urgent",
        Priority::P2 => "high",
        Priority::P3 => "medium",
    }
}
