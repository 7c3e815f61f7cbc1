// What an operator is told and shown about the scheduler: three log alert rules on Application Insights, the
// action group they notify by e-mail, and a workbook. Signal names come from scheduler_core/adapters/telemetry.py
// (tests/unit/test_infra_alerts.py checks the queries against them); docs/operations.md says what to do on each.
param applicationInsightsName string
param location string
param tags object

@description('E-mail address the alerts go to; empty: the action group has no receiver (add one in the portal).')
param alertEmail string = ''

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource actionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = {
  name: 'ag-scheduler-${uniqueString(applicationInsights.id)}'
  location: 'global'
  tags: tags
  properties: {
    groupShortName: 'scheduler'
    enabled: true
    emailReceivers: empty(alertEmail) ? [] : [
      {
        name: 'operator'
        emailAddress: alertEmail
        useCommonAlertSchema: true
      }
    ]
  }
}

// Metrics arrive in customMetrics once per export interval (counters are delta: valueSum is what was added in it);
// spans of attempts (INTERNAL) and calls (CLIENT) in dependencies, attributes in customDimensions. Spans are sampled
// (rate-limited: a burst keeps a smaller share of its rows than a quiet hour), so every percentile over them is
// weighted by itemCount, the number of spans a row stands for.
var faultedQuery = 'customMetrics | where name == "scheduler.attempts" and tostring(customDimensions["scheduler.outcome"]) == "Faulted" | summarize faulted = sum(valueSum)'
var latenessQuery = 'dependencies | where name == "scheduler.attempt" | extend lateness_ms = todouble(customDimensions["scheduler.lateness_ms"]) | summarize p99_ms = percentilew(lateness_ms, itemCount, 99)'
var poisonQuery = 'customMetrics | where name == "scheduler.poison.messages" | summarize poisoned = sum(valueSum)'

var rules = [
  {
    name: 'faulted'
    displayName: 'Scheduler: a job occurrence faulted'
    description: 'An occurrence failed on every attempt its retry policy allows (or reached the poison queue) in the last 15 minutes.'
    severity: 2
    query: faultedQuery
    measure: 'faulted'
    threshold: 0
  }
  {
    name: 'lateness'
    displayName: 'Scheduler: p99 lateness above 5 s'
    description: '99th percentile of the time from an attempt\'s due instant to its start above 5 seconds over 15 minutes.'
    severity: 2
    query: latenessQuery
    measure: 'p99_ms'
    threshold: 5000
  }
  {
    name: 'poison'
    displayName: 'Scheduler: execution message in the poison queue'
    description: 'The scheduler itself failed to process an execution message maxDequeueCount times in the last 15 minutes.'
    severity: 1
    query: poisonQuery
    measure: 'poisoned'
    threshold: 0
  }
]

resource alertRules 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = [for rule in rules: {
  name: 'alert-scheduler-${rule.name}-${uniqueString(applicationInsights.id)}'
  location: location
  tags: tags
  properties: {
    displayName: rule.displayName
    description: rule.description
    severity: rule.severity
    enabled: true
    scopes: [
      applicationInsights.id
    ]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT15M'
    autoMitigate: true
    criteria: {
      allOf: [
        {
          query: rule.query
          timeAggregation: 'Maximum'
          metricMeasureColumn: rule.measure
          operator: 'GreaterThan'
          threshold: rule.threshold
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    actions: {
      actionGroups: [
        actionGroup.id
      ]
    }
  }
}]

var workbookQueries = [
  {
    title: 'Lateness percentiles (ms): due instant to start of the attempt'
    query: 'dependencies | where name == "scheduler.attempt" | extend lateness_ms = todouble(customDimensions["scheduler.lateness_ms"]) | summarize p50 = percentilew(lateness_ms, itemCount, 50), p95 = percentilew(lateness_ms, itemCount, 95), p99 = percentilew(lateness_ms, itemCount, 99) by bin(timestamp, 5m) | render timechart'
    visualization: 'timechart'
  }
  {
    title: 'Outcomes by job collection'
    query: 'dependencies | where name == "scheduler.attempt" | summarize attempts = sum(itemCount) by collection = tostring(customDimensions["scheduler.collection"]), outcome = tostring(customDimensions["scheduler.outcome"]) | order by collection asc, outcome asc'
    visualization: 'table'
  }
  {
    title: 'Slowest targets (ms)'
    query: 'dependencies | where isnotempty(tostring(customDimensions["scheduler.action.target"])) | summarize calls = sum(itemCount), failed = sumif(itemCount, success == false), p50 = percentilew(duration, itemCount, 50), p95 = percentilew(duration, itemCount, 95) by target = tostring(customDimensions["scheduler.action.target"]), action = tostring(customDimensions["scheduler.action.type"]) | top 20 by p95 desc'
    visualization: 'table'
  }
]

var workbook = {
  version: 'Notebook/1.0'
  items: [for (item, i) in workbookQueries: {
    type: 3
    name: 'query-${i}'
    content: {
      version: 'KqlItem/1.0'
      title: item.title
      query: item.query
      size: 0
      timeContext: {
        durationMs: 86400000
      }
      queryType: 0
      resourceType: 'microsoft.insights/components'
      visualization: item.visualization
    }
  }]
  isLocked: false
}

resource schedulerWorkbook 'Microsoft.Insights/workbooks@2023-06-01' = {
  name: guid(applicationInsights.id, 'scheduler-workbook')
  location: location
  tags: tags
  kind: 'shared'
  properties: {
    displayName: 'Scheduler: lateness, outcomes, targets'
    category: 'workbook'
    sourceId: applicationInsights.id
    serializedData: string(workbook)
  }
}

output actionGroupId string = actionGroup.id
output workbookId string = schedulerWorkbook.id
