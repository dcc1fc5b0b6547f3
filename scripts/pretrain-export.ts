import { Recipe } from '../lib/recipes';
export async function exportShipped(recipe: Recipe): Promise<void> {
  throw new Error(`export of ${recipe.name}: not written yet`);
}
