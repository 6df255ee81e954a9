/** A node of the dependency graph: an app id and the ids it depends on. */
export interface GraphNode {
  id: string
  dependsOn: readonly string[]
}

/**
 * The first dependency cycle, as the ids along it with the first repeated at
 * the end (`['a', 'b', 'a']`), or undefined. Nodes are visited in list order,
 * so the answer is deterministic.
 */
export function findCycle(nodes: readonly GraphNode[]): string[] | undefined {
  return walk(nodes).cycle
}

/**
 * Ids ordered so that every app comes after the apps it depends on; among
 * apps free to go, list order is kept. Assumes no cycle (see findCycle).
 */
export function dependencyOrder(nodes: readonly GraphNode[]): string[] {
  return walk(nodes).order
}

/**
 * Depth first from each node in list order, with an explicit stack (a chain
 * of 20,000 apps must not exhaust the call stack): every id after its
 * dependencies (post-order), and the first cycle met on the way.
 */
function walk(nodes: readonly GraphNode[]): { order: string[]; cycle?: string[] } {
  const byId = new Map(nodes.map((node) => [node.id, node]))
  const state = new Map<string, 'visiting' | 'done'>()
  const order: string[] = []
  let cycle: string[] | undefined
  for (const root of nodes) {
    if (state.has(root.id)) continue
    const path: string[] = [root.id]
    const next: number[] = [0]
    state.set(root.id, 'visiting')
    while (path.length > 0) {
      const top = path.length - 1
      const id = path[top] as string
      const deps = byId.get(id)?.dependsOn ?? []
      const index = next[top] as number
      if (index >= deps.length) {
        path.pop()
        next.pop()
        state.set(id, 'done')
        order.push(id)
        continue
      }
      next[top] = index + 1
      const dep = deps[index] as string
      if (!byId.has(dep)) continue
      const seen = state.get(dep)
      if (seen === 'visiting') cycle ??= [...path.slice(path.indexOf(dep)), dep]
      if (seen !== undefined) continue
      state.set(dep, 'visiting')
      path.push(dep)
      next.push(0)
    }
  }
  return { order, cycle }
}
