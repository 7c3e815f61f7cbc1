// Key Vault holding the keys that encrypt job secrets (HTTP basic passwords, client certificates, OAuth secrets)
// at rest. RBAC authorization only (no access policies); the app reads the secret through a Key Vault reference.
param name string
param location string
param tags object
param enablePurgeProtection bool

@secure()
param secretEncryptionKey string
param secretKeyId string

@secure()
param retiredSecretKeys string

// The format SCHEDULER_SECRET_KEYS expects: "id=base64;id=base64", the active key first.
var activeKey = '${secretKeyId}=${secretEncryptionKey}'

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: tenant().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    // The API rejects an explicit false: leave the property out unless it is wanted.
    enablePurgeProtection: enablePurgeProtection ? true : null
    publicNetworkAccess: 'Enabled'
  }
}

resource secretKeys 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: vault
  name: 'scheduler-secret-keys'
  properties: {
    value: empty(retiredSecretKeys) ? activeKey : '${activeKey};${retiredSecretKeys}'
    contentType: 'text/plain; format=id=base64;id=base64'
  }
}

output name string = vault.name
// Versionless: the app follows the latest version of the secret.
output secretKeysSecretUri string = secretKeys.properties.secretUri
