//! The vocabularies of query parameters, for the spec: each enum lists
//! exactly the values the handlers accept (they parse the raw strings
//! themselves, so that a refusal names the parameter at fault).

use serde::Serialize;
use utoipa::ToSchema;

/// `sort` of the article lists.
#[derive(Debug, Serialize, ToSchema)]
pub enum ArticleSortParam {
    #[serde(rename = "-published_at")]
    NewestFirst,
    #[serde(rename = "published_at")]
    OldestFirst,
    #[serde(rename = "-updated_at")]
    RecentlyUpdated,
}

/// `sort` of search results.
#[derive(Debug, Serialize, ToSchema)]
pub enum SearchSortParam {
    #[serde(rename = "relevance")]
    Relevance,
    #[serde(rename = "-published_at")]
    Newest,
}

/// `strategy` of related articles.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum StrategyParam {
    Auto,
    Category,
    Tags,
    Manual,
}

/// `period` of the most-read list.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum PeriodParam {
    Day,
    Week,
    Month,
}

/// `include` of the article list.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ListIncludeParam {
    Tags,
}

/// `include` of one article.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ArticleIncludeParam {
    Related,
}

/// `fields` of the article list: the fields of an item.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SummaryFieldParam {
    Id,
    Slug,
    Title,
    Summary,
    Excerpt,
    Url,
    Cover,
    Category,
    Authors,
    Tags,
    PublishedAt,
    UpdatedAt,
    WordCount,
    ReadingTimeMinutes,
    Featured,
    Language,
}

/// `fields` of one article.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ArticleFieldParam {
    Id,
    Slug,
    Title,
    Summary,
    Excerpt,
    Url,
    Cover,
    Category,
    Breadcrumbs,
    Authors,
    Tags,
    Body,
    BodyHtml,
    BodyText,
    PublishedAt,
    FirstPublishedAt,
    CreatedAt,
    UpdatedAt,
    WordCount,
    ReadingTimeMinutes,
    Featured,
    Language,
    Source,
    Seo,
    Version,
    Related,
}

/// `status` of the admin article list.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ArticleStatusParam {
    Draft,
    Scheduled,
    Published,
    Archived,
}
