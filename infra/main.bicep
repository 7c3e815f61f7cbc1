// Azure Scheduler revival on Azure Functions (Flex Consumption): everything `azd up` provisions.
//
// One resource group holds a user-assigned identity, Log Analytics + Application Insights, a storage account
// (tables, queues, the deployment container), a Key Vault with the secret-encryption keys and the function app.
// No shared keys, no local auth: the identity reaches storage, App Insights and Key Vault through RBAC
// (modules/rbac.bicep), and callers reach the API with Entra bearer tokens (App Service authentication).
targetScope = 'subscription'

@minLength(1)
@maxLength(40)
@description('azd environment name; names the resource group and seeds the resource names.')
param environmentName string

@minLength(1)
@description('Azure region for every resource (one that offers Flex Consumption).')
param location string

@description('Application (client) id of the Entra app registration that represents the scheduler API.')
param apiClientId string

@description('Token audiences the API accepts, e.g. its identifier URI api://<apiClientId>. The client id is always accepted too (v2 tokens carry it as audience).')
param allowedAudiences array

@secure()
@description('Base64 of 32 random bytes that encrypts job secrets at rest. Generate: python -c "import os,base64;print(base64.b64encode(os.urandom(32)).decode())"')
param secretEncryptionKey string

@description('Id of the encryption key above, stored beside every encrypted value; change it when the key changes.')
param secretKeyId string = 'k1'

@secure()
@description('Keys retired by a rotation that must still decrypt old values: "id=base64;id=base64". Empty when none.')
param retiredSecretKeys string = ''

@description('Key Vault purge protection. Recommended in production (losing the key loses every stored secret); it blocks `azd down --purge` for the retention period.')
param enablePurgeProtection bool = false

@description('Queues a StorageQueue action without a sasToken may post to with the app\'s identity: "account/queue;account/queue". Empty: none. The identity needs a queue data role on each account outside this deployment; the scheduler\'s own queues are refused.')
param identityQueues string = ''

@allowed([
  512
  2048
  4096
])
// 2,048 MB is one vCPU: one language worker process (FUNCTIONS_WORKER_PROCESS_COUNT unset). At 4,096 MB (two vCPUs)
// add the app setting FUNCTIONS_WORKER_PROCESS_COUNT=2: bench.lateness meets p99 <= 250 ms on 2 cores only with two
// processes (docs/performance.md, issue 13).
@description('Memory of each Flex Consumption instance, in MB.')
param instanceMemoryMB int = 2048

@description('Token audiences a job\'s ManagedIdentity authentication may ask for, e.g. ["api://my-backend"]. Empty (the default) turns the extension off. Audiences of the scheduler\'s own kinds of resource (Key Vault, storage, ARM) are refused even if listed. Tokens come from the outbound identity, which has no role anywhere until you grant one.')
param managedIdentityAudiences array = []

@minValue(1)
@maxValue(1000)
@description('Upper bound on Flex Consumption instances (caps cost and the load on job targets).')
param maximumInstanceCount int = 100

@description('E-mail address that receives the scheduler\'s alerts (faulted occurrences, lateness, poison messages). Empty: no receiver.')
param alertEmail string = ''

var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = {
  'azd-env-name': environmentName
}

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: 'rg-${environmentName}'
  location: location
  tags: tags
}

module identity 'modules/identity.bicep' = {
  name: 'identity'
  scope: rg
  params: {
    name: 'id-scheduler-${resourceToken}'
    location: location
    tags: tags
  }
}

// A second identity, for jobs' ManagedIdentity authentication only. It gets no role in this deployment (no access to
// the vault, the storage account or ARM): an operator grants it exactly what job targets need (docs/deploy.md).
module outboundIdentity 'modules/identity.bicep' = {
  name: 'outbound-identity'
  scope: rg
  params: {
    name: 'id-scheduler-outbound-${resourceToken}'
    location: location
    tags: tags
  }
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    logAnalyticsName: 'log-${resourceToken}'
    applicationInsightsName: 'appi-${resourceToken}'
    location: location
    tags: tags
  }
}

module alerts 'modules/alerts.bicep' = {
  name: 'alerts'
  scope: rg
  params: {
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    location: location
    tags: tags
    alertEmail: alertEmail
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    name: 'st${resourceToken}'
    location: location
    tags: tags
  }
}

module keyVault 'modules/keyvault.bicep' = {
  name: 'keyvault'
  scope: rg
  params: {
    name: 'kv-${resourceToken}'
    location: location
    tags: tags
    enablePurgeProtection: enablePurgeProtection
    secretEncryptionKey: secretEncryptionKey
    secretKeyId: secretKeyId
    retiredSecretKeys: retiredSecretKeys
  }
}

module rbac 'modules/rbac.bicep' = {
  name: 'rbac'
  scope: rg
  params: {
    principalId: identity.outputs.principalId
    storageAccountName: storage.outputs.name
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    keyVaultName: keyVault.outputs.name
  }
}

module functionApp 'modules/functionapp.bicep' = {
  name: 'functionapp'
  scope: rg
  params: {
    name: 'func-scheduler-${resourceToken}'
    planName: 'plan-${resourceToken}'
    location: location
    tags: tags
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    outboundIdentityId: outboundIdentity.outputs.id
    outboundIdentityClientId: outboundIdentity.outputs.clientId
    managedIdentityAudiences: managedIdentityAudiences
    storageBlobEndpoint: storage.outputs.blobEndpoint
    storageQueueEndpoint: storage.outputs.queueEndpoint
    storageTableEndpoint: storage.outputs.tableEndpoint
    deploymentContainerName: storage.outputs.deploymentContainerName
    applicationInsightsConnectionString: monitoring.outputs.connectionString
    secretKeysSecretUri: keyVault.outputs.secretKeysSecretUri
    secretKeyId: secretKeyId
    apiClientId: apiClientId
    allowedAudiences: allowedAudiences
    instanceMemoryMB: instanceMemoryMB
    maximumInstanceCount: maximumInstanceCount
    identityQueues: identityQueues
  }
  // The host reads storage and the Key Vault reference as soon as it starts: grant access first.
  dependsOn: [
    rbac
  ]
}

output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output FUNCTION_APP_URL string = functionApp.outputs.url
output FUNCTION_APP_NAME string = functionApp.outputs.name
output IDENTITY_CLIENT_ID string = identity.outputs.clientId
output OUTBOUND_IDENTITY_PRINCIPAL_ID string = outboundIdentity.outputs.principalId
output STORAGE_ACCOUNT_NAME string = storage.outputs.name
