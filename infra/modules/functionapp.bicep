// The Flex Consumption function app, its app settings and App Service authentication.
param name string
param planName string
param location string
param tags object
param identityId string
param identityClientId string
@description('The identity jobs\' ManagedIdentity authentication gets tokens from; it holds no role on this deployment.')
param outboundIdentityId string
param outboundIdentityClientId string
param managedIdentityAudiences array
param storageBlobEndpoint string
param storageQueueEndpoint string
param storageTableEndpoint string
param deploymentContainerName string
param applicationInsightsConnectionString string
param secretKeysSecretUri string
param secretKeyId string
param apiClientId string
param allowedAudiences array
param instanceMemoryMB int
param maximumInstanceCount int
param identityQueues string = ''

// Every app setting in one place. tests/unit/test_infra.py checks these names against
// scheduler_core.settings.setting_names() in both directions. Not set here on purpose:
// AzureWebJobsStorage (a connection string; shared keys are disabled) and SCHEDULER_ALLOW_LOOPBACK_TARGETS /
// SCHEDULER_ALLOW_LINK_LOCAL_TARGETS (they would let a job call the instance metadata and identity endpoints).
// Flex Consumption rejects FUNCTIONS_WORKER_RUNTIME and FUNCTIONS_EXTENSION_VERSION: functionAppConfig says it.
var appSettings = {
  // Identity-based host storage (Functions convention); scheduler_core/adapters/clients.py reads the same names.
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identityClientId
  AzureWebJobsStorage__blobServiceUri: storageBlobEndpoint
  AzureWebJobsStorage__queueServiceUri: storageQueueEndpoint
  AzureWebJobsStorage__tableServiceUri: storageTableEndpoint
  // Read by the host and by the app (adapters/telemetry.py, the Azure Monitor OpenTelemetry distro): telemetry
  // authenticated with the identity (local auth is disabled on App Insights). With host.json telemetryMode
  // OpenTelemetry, the worker exports its own spans, metrics and logs in the host's trace.
  APPLICATIONINSIGHTS_CONNECTION_STRING: applicationInsightsConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
  PYTHON_APPLICATIONINSIGHTS_ENABLE_TELEMETRY: 'true'
  // Timer schedules (NCRONTAB, seconds first), resolved by the host from %SCHEDULER_..._SCHEDULE%.
  SCHEDULER_TICK_SCHEDULE: '0 * * * * *'
  SCHEDULER_MAINTENANCE_SCHEDULE: '0 30 3 * * *'
  // Job-secret encryption: the keyring lives in Key Vault, resolved with the user-assigned identity.
  SCHEDULER_SECRET_KEYS: '@Microsoft.KeyVault(SecretUri=${secretKeysSecretUri})'
  SCHEDULER_ACTIVE_SECRET_KEY_ID: secretKeyId
  // Operating knobs, set explicitly so an operator sees and tunes them here (values = the code's defaults).
  SCHEDULER_LOOKAHEAD_SECONDS: '90'
  SCHEDULER_HTTP_TIMEOUT_SECONDS: '60'
  SCHEDULER_CATCH_UP_WINDOW_SECONDS: '3600'
  SCHEDULER_BOOKKEEPING_WAIT_SECONDS: '1'
  SCHEDULER_CLAIM_LEAD_SECONDS: '1'
  SCHEDULER_HISTORY_RETENTION_DAYS: '60'
  SCHEDULER_HISTORY_MAX_RUNS: '1000'
  // The old service's limit on "time to start time": 18 months.
  SCHEDULER_MAX_START_AHEAD_DAYS: '548'
  // StorageQueue actions with the identity instead of a SAS: only these account/queue pairs (empty: none).
  SCHEDULER_IDENTITY_QUEUES: identityQueues
  REGION_NAME: location
  // Jobs' ManagedIdentity authentication: tokens only from the outbound identity, only for these audiences
  // (empty: the extension is off).
  SCHEDULER_OUTBOUND_IDENTITY_CLIENT_ID: outboundIdentityClientId
  SCHEDULER_MANAGED_IDENTITY_AUDIENCES: join(managedIdentityAudiences, ';')
}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true
  }
}

resource site 'Microsoft.Web/sites@2024-04-01' = {
  name: name
  location: location
  tags: union(tags, {
    'azd-service-name': 'scheduler'
  })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
      '${outboundIdentityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    keyVaultReferenceIdentity: identityId
    siteConfig: {
      minTlsVersion: '1.2'
      scmMinTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storageBlobEndpoint}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      runtime: {
        name: 'python'
        version: '3.11'
      }
      scaleAndConcurrency: {
        instanceMemoryMB: instanceMemoryMB
        maximumInstanceCount: maximumInstanceCount
      }
    }
  }
}

resource siteSettings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: site
  name: 'appsettings'
  properties: appSettings
}

// App Service authentication in front of the whole app, as ARM fronts Azure Scheduler: an Entra bearer token for
// the API's audience, or 401. Only the health probe is anonymous. The functions themselves are anonymous-level.
// The console (/console) is let through without a token so that the app can send a browser to sign in
// (/.auth/login/aad); the app itself refuses any console request without a signed-in principal
// (scheduler_core/api/console/security.py), and an API client without a token still gets 401, never a redirect.
resource siteAuth 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: site
  name: 'authsettingsV2'
  properties: {
    platform: {
      enabled: true
    }
    globalValidation: {
      requireAuthentication: true
      unauthenticatedClientAction: 'Return401'
      excludedPaths: [
        '/health'
        '/console'
        '/console/*'
      ]
    }
    httpSettings: {
      requireHttps: true
    }
    identityProviders: {
      azureActiveDirectory: {
        enabled: true
        registration: {
          clientId: apiClientId
          openIdIssuer: 'https://sts.windows.net/${tenant().tenantId}/v2.0'
        }
        validation: {
          allowedAudiences: union(allowedAudiences, [
            apiClientId
          ])
        }
      }
    }
    login: {
      tokenStore: {
        enabled: false
      }
    }
  }
}

output name string = site.name
output url string = 'https://${site.properties.defaultHostName}'
