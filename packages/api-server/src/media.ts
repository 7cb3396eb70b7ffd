/** Media types of the routes that speak YAML as well as JSON. */

/** Whether a Content-Type (or one entry of an Accept header) names YAML. */
export function isYaml(mediaType: string | undefined): boolean {
  return /^\s*(application\/(x-)?yaml|text\/(x-)?yaml)\s*(;|$)/i.test(mediaType ?? '')
}

/** Whether an Accept header asks for YAML before JSON (or for YAML and not JSON at all). */
export function wantsYaml(accept: string | undefined): boolean {
  const types = (accept ?? '').split(',').map((part) => part.trim())
  const yaml = types.findIndex((type) => isYaml(type))
  const json = types.findIndex((type) => /^(application\/(json|\*)|\*\/\*)/i.test(type))
  return yaml !== -1 && (json === -1 || yaml < json)
}
